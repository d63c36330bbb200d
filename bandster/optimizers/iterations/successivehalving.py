"""HpBandSter's path of successive halving; it lives in :mod:`bandster.schedulers.successive_halving`."""

from bandster.schedulers.successive_halving import SuccessiveHalving, top_k_mask

__all__ = ["SuccessiveHalving", "top_k_mask"]
