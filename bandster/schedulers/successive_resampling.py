"""Successive resampling: keep the best fraction of a stage and fill the rest with fresh samples."""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np

from bandster.core.base_iteration import BaseIteration, ConfigId
from bandster.schedulers.successive_halving import top_k_mask

logger = logging.getLogger(__name__)


class SuccessiveResampling(BaseIteration):
    """A successive-halving bracket that promotes only part of each stage and resamples the rest.

    At each promotion the best ``max(min_samples_advance, floor(num_configs[stage] * (1 - resampling_rate)))``
    configurations (at most ``num_configs[stage]``) move on; the stage's remaining slots are filled with
    fresh samples drawn on the stage's budget (config ids ``(iteration, stage, n)``).

    Parameters
    ----------
    *args, **kwargs
        The arguments of :class:`~bandster.core.base_iteration.BaseIteration`.
    resampling_rate : float
        The fraction of each later stage filled with fresh samples, ``0 <= resampling_rate <= 1``.
        0 is plain successive halving.
    min_samples_advance : int
        The fewest configurations promoted (when enough succeeded), ``>= 0``.
    """

    def __init__(self, *args: Any, resampling_rate: float = 0.5, min_samples_advance: int = 1, **kwargs: Any):
        rate = float(resampling_rate)
        if not 0.0 <= rate <= 1.0:
            raise ValueError(
                f"resampling_rate must be between 0 and 1, got {resampling_rate!r}; it is the fraction of "
                "each stage filled with fresh configurations"
            )
        if isinstance(min_samples_advance, bool) or int(min_samples_advance) != min_samples_advance:
            raise ValueError(f"min_samples_advance must be an integer >= 0, got {min_samples_advance!r}")
        if min_samples_advance < 0:
            raise ValueError(f"min_samples_advance must be >= 0, got {min_samples_advance!r}")
        super().__init__(*args, **kwargs)
        self.resampling_rate = rate
        self.min_samples_advance = int(min_samples_advance)

    def num_to_advance(self, stage: int) -> int:
        """How many configurations are promoted into ``stage``."""
        slots = self.num_configs[stage]
        kept = slots * (1.0 - self.resampling_rate)
        nearest = round(kept)
        kept_int = int(nearest) if abs(kept - nearest) <= 1e-9 * max(1.0, kept) else math.floor(kept)
        return min(slots, max(self.min_samples_advance, kept_int))

    def _advance_to_next_stage(self, config_ids: list[ConfigId], losses: np.ndarray) -> np.ndarray:
        return top_k_mask(losses, self.num_to_advance(self.stage))
