"""HpBandSter's path of successive resampling; it lives in :mod:`bandster.schedulers.successive_resampling`."""

from bandster.schedulers.successive_resampling import SuccessiveResampling

__all__ = ["SuccessiveResampling"]
