"""Successive halving: the best ``num_configs[next stage]`` configurations move on."""

from __future__ import annotations

import logging

import numpy as np

from bandster.core.base_iteration import BaseIteration, ConfigId

logger = logging.getLogger(__name__)


def top_k_mask(losses: np.ndarray, k: int) -> np.ndarray:
    """Return a boolean mask selecting the ``k`` smallest finite losses.

    Ties are broken by position (the sampling order) through a stable sort; non-finite losses are never
    selected.

    Examples
    --------
    >>> top_k_mask(np.array([3.0, 1.0, 2.0, 1.0]), 2).tolist()
    [False, True, False, True]
    """
    losses = np.asarray(losses, dtype=float)
    mask = np.zeros(losses.shape[0], dtype=bool)
    if k <= 0 or losses.size == 0:
        return mask
    order = np.argsort(losses, kind="stable")
    mask[order[:k]] = True
    mask &= np.isfinite(losses)
    return mask


class SuccessiveHalving(BaseIteration):
    """A successive-halving bracket: after each stage the ``num_configs[stage]`` best configurations
    (lowest finite loss) are re-run on the next budget.

    Takes the arguments of :class:`~bandster.core.base_iteration.BaseIteration`.
    """

    def _advance_to_next_stage(self, config_ids: list[ConfigId], losses: np.ndarray) -> np.ndarray:
        return top_k_mask(losses, self.num_configs[self.stage])
