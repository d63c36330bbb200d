"""bandster's runtime (name server, worker, dispatcher, master); the records (journal, Result) live in
:mod:`bandster.records`, and ``bandster.core.result``, ``bandster.core.journal`` and ``bandster.core.run_table``
re-export them under HpBandSter's paths."""
