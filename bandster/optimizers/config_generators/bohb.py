"""HpBandSter's path of BOHB's config generator; it lives in :mod:`bandster.samplers.bohb`."""

from bandster.samplers.bohb import BOHB

__all__ = ["BOHB"]
