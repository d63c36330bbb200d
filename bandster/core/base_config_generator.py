"""HpBandSter's path of the config generators' base class; it lives in :mod:`bandster.samplers._base`."""

from bandster.samplers._base import base_config_generator

__all__ = ["base_config_generator"]
