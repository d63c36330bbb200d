"""Bandwidth selection for the product KDE: statsmodels' normal-reference rule, made valid per kernel.

For a column with sample standard deviation ``s`` (``ddof=0``), ``n`` rows and ``q`` columns in the
KDE, statsmodels' ``KDEMultivariate(..., bw='normal_reference')`` uses ``1.06 * s * n**(-1/(4+q))``
for every column, whatever its type. It is reproduced here in numpy (statsmodels refuses data with
``n <= q`` and costs more than the formula), and a test checks it against statsmodels.

Changes for discrete columns, so the kernels stay valid (HpBandSter applied the continuous rule to
category indices, giving λ > 1 and invalid "densities"):

* unordered categorical (Aitchison–Aitken) with ``c`` levels: the index's standard deviation
  depends on the arbitrary order of the choices, so ``s`` is replaced by the label-invariant spread
  ``sqrt((1 - sum_k p_k**2) / 2)`` (``p_k`` the level frequencies; equal to the index's standard deviation
  when ``c = 2``), and λ is clipped into ``[min_bandwidth, (c - 1) / c]`` (the upper end is the
  uniform distribution);
* ordered categorical (Wang–Ryzin): the rule on the level index, clipped into
  ``[min_bandwidth, WANG_RYZIN_MAX_BANDWIDTH]`` (the kernel needs λ < 1);
* continuous: floored at ``min_bandwidth`` (a constant column gives ``s = 0``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

NORMAL_REFERENCE_FACTOR = 1.06
WANG_RYZIN_MAX_BANDWIDTH = 0.99

__all__ = [
    "NORMAL_REFERENCE_FACTOR",
    "WANG_RYZIN_MAX_BANDWIDTH",
    "categorical_spread",
    "max_bandwidths",
    "normal_reference_bandwidths",
]


def max_bandwidths(var_types: Sequence[str], num_levels: Sequence[int]) -> np.ndarray:
    """The largest valid bandwidth of each column's kernel.

    ``inf`` for continuous, ``(c - 1) / c`` for unordered categorical (uniform), and
    :data:`WANG_RYZIN_MAX_BANDWIDTH` for ordinal columns.

    Examples
    --------
    >>> max_bandwidths('cuo', [0, 4, 3]).tolist()
    [inf, 0.75, 0.99]
    """
    out = np.full(len(var_types), np.inf)
    for j, (t, c) in enumerate(zip(var_types, num_levels, strict=True)):
        if t == "u":
            out[j] = (c - 1) / c if c > 1 else 0.0
        elif t == "o":
            out[j] = WANG_RYZIN_MAX_BANDWIDTH
    return out


def categorical_spread(levels: np.ndarray, num_levels: int) -> float:
    """Label-invariant spread of categorical data: ``sqrt((1 - sum_k p_k**2) / 2)``.

    For two levels it equals the standard deviation of the 0/1 index; it is 0 when one level is seen.

    Examples
    --------
    >>> bool(categorical_spread(np.array([0, 1, 1, 0]), 2) == np.std([0, 1, 1, 0]))
    True
    >>> categorical_spread(np.array([2, 2, 2]), 3)
    0.0
    """
    levels = np.asarray(levels, dtype=np.intp)
    if levels.size == 0:
        return 0.0
    p = np.bincount(levels, minlength=int(num_levels)) / levels.size
    return float(np.sqrt(max(0.0, 1.0 - float(np.dot(p, p))) / 2.0))


def normal_reference_bandwidths(
    data: np.ndarray,
    var_types: Sequence[str],
    num_levels: Sequence[int],
    min_bandwidth: float = 1e-3,
) -> np.ndarray:
    """Per-column bandwidths: the normal-reference rule, floored and clipped per kernel.

    Parameters
    ----------
    data : numpy.ndarray, shape (n, q)
        Training data; discrete columns hold level indices. NaN marks a missing (inactive) entry: a column with
        NaN gets the rule applied to its other entries alone (their number as ``n``; see :class:`ProductKDE`'s
        ``inactive_columns``).
    var_types : sequence of str
        ``'c'``, ``'u'`` or ``'o'`` per column.
    num_levels : sequence of int
        Number of levels of each discrete column (ignored for ``'c'``).
    min_bandwidth : float or array_like, shape (q,)
        Lower bound of every bandwidth (one value, or one per column).

    Returns
    -------
    numpy.ndarray, shape (q,)

    Examples
    --------
    >>> data = np.array([[0.1, 0], [0.2, 0], [0.4, 1], [0.5, 0]])
    >>> normal_reference_bandwidths(data, 'cu', [0, 3]).round(4).tolist()
    [0.133, 0.3643]
    """
    data = np.asarray(data, dtype=float)
    n, q = data.shape
    if n == 0:
        return np.broadcast_to(np.asarray(min_bandwidth, dtype=float), (q,)).copy()
    missing = np.isnan(data)
    if missing.any():
        return _bandwidths_with_missing(data, missing, var_types, num_levels, min_bandwidth)
    shrink = NORMAL_REFERENCE_FACTOR * n ** (-1.0 / (4 + q))
    spread = data.std(axis=0)
    for j, t in enumerate(var_types):
        if t == "u":
            spread[j] = categorical_spread(data[:, j], num_levels[j])
    bw = np.maximum(shrink * spread, np.asarray(min_bandwidth, dtype=float))
    return np.minimum(bw, max_bandwidths(var_types, num_levels))


def _bandwidths_with_missing(
    data: np.ndarray, missing: np.ndarray, var_types: Sequence[str], num_levels: Sequence[int], min_bandwidth: float
) -> np.ndarray:
    """The rule per column on its non-NaN entries: ``n`` is the number of those entries, ``q`` all columns.

    A column with no entry gets its floor (clipped to the kernel's range); columns without NaN get exactly what
    :func:`normal_reference_bandwidths` gives them.
    """
    n, q = data.shape
    floors = np.broadcast_to(np.asarray(min_bandwidth, dtype=float), (q,))
    bw = normal_reference_bandwidths(np.where(missing, 0.0, data), var_types, num_levels, floors)
    top = max_bandwidths(var_types, num_levels)
    for j in np.flatnonzero(missing.any(axis=0)):
        values = data[~missing[:, j], j]
        if values.size == 0:
            bw[j] = min(floors[j], top[j])
            continue
        spread = categorical_spread(values, num_levels[j]) if var_types[j] == "u" else float(values.std())
        shrink = NORMAL_REFERENCE_FACTOR * values.size ** (-1.0 / (4 + q))
        bw[j] = min(max(shrink * spread, floors[j]), top[j])
    return bw
