"""The one-dimensional kernels of the product KDE, as tables and vectorised formulas.

Three kernels, one per column type:

``'c'`` continuous, values in [0, 1]
    A Gaussian of standard deviation ``h`` centred on the datum. With ``renormalize=True`` it is
    truncated to [0, 1] and divided by its mass there, so it integrates to 1 on the unit interval;
    with ``renormalize=False`` it is statsmodels' untruncated Gaussian.
    With ``boundary="reflect"`` it is the reflection kernel: the Gaussian plus its mirror images in 0 and 1,
    ``[φ((x - x_i) / h) + φ((x + x_i) / h) + φ((x - 2 + x_i) / h)] / h``, divided by its (nearly 1) mass on
    [0, 1], the mass of ``N(x_i, h)`` on [-1, 2]. The mass that the plain Gaussian puts outside [0, 1] is
    folded back next to the boundary it crossed, instead of being spread over the whole kernel (truncation)
    or lost (statsmodels): the estimate has no first-order bias at the boundary (for uniform data its value
    there is 1, against ``log 2`` truncated and 1/2 untruncated).
``'u'`` unordered categorical with ``c`` levels (Aitchison–Aitken)
    ``1 - λ`` on the datum's level, ``λ / (c - 1)`` on each other level; a probability distribution
    over the ``c`` levels for any ``0 <= λ <= (c - 1) / c`` (uniform at the upper end).
``'o'`` ordered categorical with ``c`` levels (Wang–Ryzin)
    ``1 - λ`` on the datum's level, ``(1 - λ) / 2 * λ**|x - x_i|`` elsewhere. It sums to 1 only over
    all integers; with ``renormalize=True`` it is divided by its sum over the ``c`` levels.

Discrete kernels are precomputed as ``c x c`` tables ``T[x, x_i]`` (each column sums to 1 when
normalised), so evaluating them is an index lookup.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtr, ndtri

LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)

__all__ = [
    "LOG_SQRT_2PI",
    "aitchison_aitken_table",
    "gaussian_log_mass",
    "wang_ryzin_table",
    "sample_truncated_normal",
    "sample_reflected_normal",
    "reflection_log_mass",
    "reflection_log_correction",
    "sample_from_tables",
]


def aitchison_aitken_table(bandwidth: float, num_levels: int) -> np.ndarray:
    """The Aitchison–Aitken kernel as a ``(c, c)`` table ``T[x, x_i]``.

    Parameters
    ----------
    bandwidth : float
        λ, in ``[0, (c - 1) / c]`` for a valid kernel (the caller clips it).
    num_levels : int
        c, the number of levels of the hyperparameter (from the config space, not the data).

    Returns
    -------
    numpy.ndarray
        Each column is a probability distribution over the ``c`` levels.

    Examples
    --------
    >>> aitchison_aitken_table(0.3, 3).round(2)
    array([[0.7 , 0.15, 0.15],
           [0.15, 0.7 , 0.15],
           [0.15, 0.15, 0.7 ]])
    """
    c = int(num_levels)
    if c < 2:
        return np.ones((1, 1))
    table = np.full((c, c), bandwidth / (c - 1))
    np.fill_diagonal(table, 1.0 - bandwidth)
    return table


def wang_ryzin_table(bandwidth: float, num_levels: int, renormalize: bool = True) -> np.ndarray:
    """The Wang–Ryzin kernel as a ``(c, c)`` table ``T[x, x_i]``.

    Parameters
    ----------
    bandwidth : float
        λ, in ``[0, 1)``.
    num_levels : int
        c, the number of levels.
    renormalize : bool
        Divide each column by its sum over the ``c`` levels (so it is a distribution on them).
        ``False`` gives statsmodels' values, which sum to less than 1 on a finite support.

    Examples
    --------
    >>> wang_ryzin_table(0.5, 3, renormalize=False)
    array([[0.5   , 0.125 , 0.0625],
           [0.125 , 0.5   , 0.125 ],
           [0.0625, 0.125 , 0.5   ]])
    >>> bool(np.allclose(wang_ryzin_table(0.5, 3).sum(axis=0), 1.0))
    True
    """
    c = int(num_levels)
    levels = np.arange(c)
    distance = np.abs(levels[:, None] - levels[None, :])
    table = 0.5 * (1.0 - bandwidth) * np.power(bandwidth, distance)
    np.fill_diagonal(table, 1.0 - bandwidth)
    if renormalize:
        table = table / table.sum(axis=0, keepdims=True)
    return table


def gaussian_log_mass(centers: np.ndarray, bandwidths: np.ndarray) -> np.ndarray:
    """``log P(0 <= X <= 1)`` for ``X ~ N(center, h)``: the log normaliser of the truncated kernel.

    Parameters
    ----------
    centers : numpy.ndarray, shape (n, k)
        Data values, in [0, 1] (so the interval always holds the centre and the mass is at least
        ``Phi(1 / h) - 1/2``: no cancellation).
    bandwidths : numpy.ndarray, shape (k,)
        Standard deviations.

    Examples
    --------
    >>> float(np.exp(gaussian_log_mass(np.array([[0.0]]), np.array([1e-3]))[0, 0]))
    0.5
    """
    mass = ndtr((1.0 - centers) / bandwidths) - ndtr(-centers / bandwidths)
    return np.log(np.maximum(mass, np.finfo(float).tiny))


def sample_truncated_normal(mean: np.ndarray, scale: np.ndarray, uniform: np.ndarray) -> np.ndarray:
    """Inverse-CDF draws from ``N(mean, scale)`` truncated to [0, 1], elementwise.

    Parameters
    ----------
    mean : numpy.ndarray
        Means, in [0, 1].
    scale : numpy.ndarray
        Standard deviations (> 0), broadcastable to ``mean``.
    uniform : numpy.ndarray
        U(0, 1) draws, same shape as ``mean``.

    Returns
    -------
    numpy.ndarray
        Values in [0, 1].

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = sample_truncated_normal(np.full(1000, 0.99), np.full(1000, 0.5), rng.random(1000))
    >>> bool(x.min() >= 0.0 and x.max() <= 1.0)
    True
    """
    mean = np.asarray(mean, dtype=float)
    # Mirror means in the upper half so the lower tail (where ndtr is accurate) is the one used.
    flip = mean > 0.5
    mu = np.where(flip, 1.0 - mean, mean)
    lo = ndtr(-mu / scale)
    hi = ndtr((1.0 - mu) / scale)
    p = lo + uniform * (hi - lo)
    x = mu + scale * ndtri(np.clip(p, 1e-300, 1.0))
    x = np.where(flip, 1.0 - x, x)
    return np.clip(x, 0.0, 1.0)


def reflection_log_mass(centers: np.ndarray, bandwidths: np.ndarray) -> np.ndarray:
    """``log P(-1 <= X <= 2)`` for ``X ~ N(center, h)``: the log normaliser of the reflection kernel on [0, 1].

    The kernel with images in 0 and 1 has, on [0, 1], the mass of ``N(x_i, h)`` on [-1, 2].

    Examples
    --------
    >>> from scipy.stats import norm
    >>> m = float(np.exp(reflection_log_mass(np.array([[0.0]]), np.array([1.0]))[0, 0]))
    >>> bool(np.isclose(m, norm.cdf(2.0) - norm.cdf(-1.0)))
    True
    """
    mass = ndtr((2.0 - centers) / bandwidths) - ndtr((-1.0 - centers) / bandwidths)
    return np.log(np.maximum(mass, np.finfo(float).tiny))


def reflection_log_correction(x: np.ndarray, centers: np.ndarray, bandwidth: float) -> np.ndarray:
    """``log`` of the reflection kernel over the plain Gaussian, for every pair of ``x`` and ``centers``.

    ``φ((x + x_i) / h) / φ((x - x_i) / h) = exp(-2 x x_i / h²)`` and ``φ((x - 2 + x_i) / h) / φ((x - x_i) / h)
    = exp(-2 (1 - x) (1 - x_i) / h²)``, so the reflection kernel is the Gaussian times ``1 + exp(-2 x x_i / h²)
    + exp(-2 (1 - x)(1 - x_i) / h²)``; both exponents are <= 0 on [0, 1], so nothing overflows.

    Parameters
    ----------
    x : numpy.ndarray, shape (m,)
        Points in [0, 1].
    centers : numpy.ndarray, shape (n,)
        Data values in [0, 1].
    bandwidth : float

    Returns
    -------
    numpy.ndarray, shape (m, n)

    Examples
    --------
    On the boundary the image equals the kernel (a factor 2); at x = 0.02 from x_i = 0.01 with h = 0.01 the image
    adds ``exp(-2 * 2 * 1) = e^-4``; in the middle nothing changes.

    >>> reflection_log_correction(np.array([0.0, 0.02, 0.5]), np.array([0.01, 0.5]), 0.01).round(6).tolist()
    [[0.693147, 0.693147], [0.01815, 0.0], [0.0, 0.0]]
    """
    a = np.asarray(x, dtype=float) / bandwidth
    b = np.asarray(centers, dtype=float) / bandwidth
    inv = 1.0 / bandwidth
    lower = np.exp(-2.0 * np.multiply.outer(a, b))
    upper = np.exp(-2.0 * np.multiply.outer(inv - a, inv - b))
    return np.log1p(lower + upper)


def sample_reflected_normal(mean: np.ndarray, scale: np.ndarray, uniform: np.ndarray) -> np.ndarray:
    """Draws from ``N(mean, scale)`` folded into [0, 1] (reflected at 0 and 1 as often as needed), elementwise.

    The arguments and the result are those of :func:`sample_truncated_normal`: means in [0, 1], standard
    deviations, U(0, 1) draws; values in [0, 1].

    Examples
    --------
    A draw of 0.2 below a mean of 0.1 lands at 0.1 (reflected in 0); one of 0.3 above 0.9 at 0.8:

    >>> from scipy.stats import norm
    >>> sample_reflected_normal(np.array([0.1, 0.9]), np.array([0.1, 0.1]), norm.cdf([-2.0, 3.0])).round(6).tolist()
    [0.1, 0.8]
    """
    mean = np.asarray(mean, dtype=float)
    x = mean + scale * ndtri(np.clip(uniform, 1e-300, 1.0 - 1e-16))
    y = np.mod(x, 2.0)
    y = np.where(y > 1.0, 2.0 - y, y)
    return np.clip(y, 0.0, 1.0)


def sample_from_tables(centers: np.ndarray, cumulative_tables: list[np.ndarray], uniform: np.ndarray) -> np.ndarray:
    """Draw discrete levels from kernel tables around the given centre levels.

    Parameters
    ----------
    centers : numpy.ndarray of int, shape (n, k)
        The datum level in each of ``k`` discrete columns.
    cumulative_tables : list of numpy.ndarray
        For column j, ``cumsum`` of its kernel table over levels, transposed: row ``x_i`` is the CDF
        of the kernel centred at ``x_i``.
    uniform : numpy.ndarray, shape (n, k)
        U(0, 1) draws.

    Returns
    -------
    numpy.ndarray of float, shape (n, k)
        The drawn levels (integers stored as floats, like ConfigSpace vectors).

    Examples
    --------
    >>> cdf = np.cumsum(aitchison_aitken_table(0.0, 3), axis=0).T
    >>> sample_from_tables(np.array([[2], [0]]), [cdf], np.array([[0.5], [0.99]]))
    array([[2.],
           [0.]])
    """
    out = np.empty(centers.shape, dtype=float)
    for j, cdf in enumerate(cumulative_tables):
        rows = cdf[centers[:, j]]
        level = (uniform[:, j, None] >= rows[:, :-1]).sum(axis=1)
        out[:, j] = level
    return out
