"""HpBandSter's path of random sampling; it lives in :mod:`bandster.samplers.random`."""

from bandster.samplers.random import RandomSampling, check_configspace, configurations_to_dicts

__all__ = ["RandomSampling", "check_configspace", "configurations_to_dicts"]
