"""The runtime: the runner that drives a scheduler over a backend."""
