"""bandster's runtime (name server, worker, dispatcher, master) and records (journal, Result)."""
