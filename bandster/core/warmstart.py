"""Earlier path of the warm start; it lives in :mod:`bandster.samplers.warm_start`."""

from bandster.samplers.warm_start import last_finished, load_previous_result, warm_start, warmstart_runs

__all__ = ["last_finished", "load_previous_result", "warm_start", "warmstart_runs"]
