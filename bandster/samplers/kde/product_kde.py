"""A product-kernel KDE over mixed continuous / categorical / ordinal columns, vectorised in numpy.

The log density of many points is one matrix product: with ``h`` the continuous bandwidths,

``log K(x, x_i) = sum_c [x_c x_ic / h_c² - x_c² / (2 h_c²) - x_ic² / (2 h_c²) - log h_c - log √(2π)
- log Z_ic] + sum_j log T_j[x_j, x_ij]``

splits into features of ``x`` (``x_c / h_c``, ``-|x / h|² / 2``, one-hot levels, 1) and features of ``x_i``
(``x_ic / h_c``, 1, the log-kernel table columns ``log T_j[:, x_ij]``, a constant), precomputed at fit
time. ``log p(x) = logsumexp_i log K(x, x_i) - log n``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from bandster.samplers.kde.bandwidth import max_bandwidths, normal_reference_bandwidths
from bandster.samplers.kde.kernels import (
    LOG_SQRT_2PI,
    aitchison_aitken_table,
    gaussian_log_mass,
    reflection_log_correction,
    reflection_log_mass,
    sample_from_tables,
    sample_reflected_normal,
    sample_truncated_normal,
    wang_ryzin_table,
)

logger = logging.getLogger(__name__)

_LOG_TINY = float(np.log(np.finfo(float).tiny))

# OpenBLAS runs a matrix product on several threads once m*n*k exceeds 2**18. For products this small the
# threads cost more than they save, and when the cores are busy (a master whose workers compute in threads,
# other processes) the product stalls for tens of milliseconds. Tiles at or below that size stay on the
# calling thread.
_GEMM_TILE = 1 << 18


def _matmul_on_this_thread(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` computed in tiles small enough that BLAS does not start threads."""
    m, k = a.shape
    n = b.shape[1]
    if m * n * k <= _GEMM_TILE:
        return a @ b
    out = np.empty((m, n))
    rows = max(1, min(m, _GEMM_TILE // (k * 64)))
    cols = max(1, _GEMM_TILE // (rows * k))
    for i in range(0, m, rows):
        for j in range(0, n, cols):
            np.matmul(a[i : i + rows], b[:, j : j + cols], out=out[i : i + rows, j : j + cols])
    return out


__all__ = ["BOUNDARIES", "ProductKDE"]

#: The values of ``boundary``: how a continuous kernel treats the edges of [0, 1] (see :class:`ProductKDE`)
BOUNDARIES = ("truncate", "reflect", "none")


class ProductKDE:
    """Product-kernel kernel density estimate on the unit cube and on discrete levels.

    Parameters
    ----------
    data : array_like, shape (n, q)
        Training points, without NaN. Continuous columns in [0, 1]; discrete columns hold level
        indices ``0 .. c-1`` (ConfigSpace's vector form).
    var_types : str or sequence of str
        One of ``'c'`` (continuous, Gaussian kernel), ``'u'`` (unordered categorical,
        Aitchison–Aitken) or ``'o'`` (ordered categorical, Wang–Ryzin) per column, e.g. ``'cuo'``.
    num_levels : sequence of int, optional
        Number of levels ``c`` of each column (from the config space, not the data; ignored for
        ``'c'`` columns). Required when there are discrete columns.
    bandwidths : array_like, shape (q,), optional
        Fixed bandwidths. Default: :func:`~bandster.samplers.kde.bandwidth.normal_reference_bandwidths`.
    min_bandwidth : float or array_like, shape (q,)
        Lower bound of the selected bandwidths (one value, or one per column).
    renormalize : bool
        True (default): continuous kernels are truncated to [0, 1] and renormalised there, and
        Wang–Ryzin kernels are renormalised over the ``c`` levels, so the density integrates to 1 on
        the space. False: statsmodels' kernels (untruncated Gaussian, raw Wang–Ryzin), for comparison
        (``boundary`` is then ignored).
    boundary : {"truncate", "reflect", "none"}
        How continuous kernels treat the edges of [0, 1] (with ``renormalize=True``). ``"truncate"``
        (default): the Gaussian truncated to [0, 1] and divided by its mass there; :meth:`sample` draws from
        the truncated normal. ``"reflect"``: the Gaussian plus its mirror images in 0 and 1 (the mass that
        leaves the interval is folded back beside the edge it crossed; no first-order bias at the edges);
        :meth:`sample` folds normal draws into [0, 1]. ``"none"``: the untruncated Gaussian (statsmodels',
        as HpBandSter scores), sampled truncated as HpBandSter does.
    prior_weight : float
        Weight ``w``, in training points, of the uniform distribution on the space mixed into the
        density (TPE's prior): ``p(x) = (n KDE(x) + w u(x)) / (n + w)`` with ``u`` 1 on [0, 1] per
        continuous column and ``1 / c`` per level of a discrete one; :meth:`sample` draws a row from ``u``
        with probability ``w / (n + w)``. Default 0: the plain KDE.
    inactive_columns : sequence of int, optional
        Columns in which ``data`` may hold NaN, meaning "inactive" (a conditional hyperparameter). In such a
        column a point whose entry is NaN has the uniform density as its kernel (1 on [0, 1], ``1 / c`` per
        level), so only the points where the column is active shape the density there; a *query* point whose
        entry is NaN has that column left out (its kernel integrates to 1 over the column, so this is the
        marginal density of the other columns; requires normalised kernels, i.e. ``renormalize=True`` and not
        ``boundary="none"`` for an exact marginal). The bandwidth of such a column comes from its active
        entries alone. :meth:`sample` draws a uniform value where the chosen point's entry is NaN. Default:
        none (NaN anywhere is an error, as are queries with NaN, which get density 0).
    level_prior_weights : sequence of float, optional
        Per column, a weight ``w_j >= 0``, in points, of the uniform distribution mixed into that discrete
        column's kernel: the column's marginal becomes ``(sum_i K(x_j, x_ij) + w_j / c) / (n_j + w_j)`` with
        ``n_j`` the points active in the column (TPE's prior, for one column only); :meth:`sample` draws from
        the same mixture. Only discrete columns may have a positive weight. Default: none.

    Attributes
    ----------
    data : numpy.ndarray
    bandwidths : numpy.ndarray
    var_types : str
    num_levels : numpy.ndarray

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> kde = ProductKDE([[0.2, 0], [0.3, 1], [0.25, 0]], 'cu', num_levels=[0, 3])
    >>> kde.bandwidths.round(3).tolist()
    [0.036, 0.416]
    >>> p = kde.pdf([[0.25, 0], [0.9, 2]])
    >>> bool(p[0] > p[1])
    True
    >>> x = kde.sample(5, rng, bandwidth_factor=3)
    >>> x.shape, bool(((x[:, 0] >= 0) & (x[:, 0] <= 1)).all())
    ((5, 2), True)
    """

    def __init__(
        self,
        data: np.ndarray | Sequence[Sequence[float]],
        var_types: str | Sequence[str],
        num_levels: Sequence[int] | None = None,
        bandwidths: np.ndarray | Sequence[float] | None = None,
        min_bandwidth: float = 1e-3,
        renormalize: bool = True,
        prior_weight: float = 0.0,
        boundary: str = "truncate",
        inactive_columns: Sequence[int] | None = None,
        level_prior_weights: Sequence[float] | None = None,
    ) -> None:
        data = np.array(data, dtype=float, ndmin=2)
        self.var_types = "".join(var_types)
        q = len(self.var_types)
        if data.shape[0] == 0 or data.ndim != 2 or data.shape[1] != q:
            raise ValueError(
                f"ProductKDE needs a non-empty (n, {q}) data array for var_types {self.var_types!r}; "
                f"got shape {data.shape}"
            )
        if set(self.var_types) - set("cuo"):
            raise ValueError(f"var_types must be made of 'c', 'u' and 'o'; got {self.var_types!r}")
        sparse = np.zeros(q, dtype=bool)
        if inactive_columns is not None:
            columns = np.asarray(list(inactive_columns), dtype=np.intp).reshape(-1)
            if ((columns < 0) | (columns >= q)).any():
                raise ValueError(f"inactive_columns must be column indices in [0, {q - 1}]; got {columns.tolist()}")
            sparse[columns] = True
        if np.isinf(data).any() or np.isnan(data[:, ~sparse]).any():
            raise ValueError(
                "ProductKDE data contains NaN or inf: impute inactive values first, or name their columns in"
                " inactive_columns"
            )
        levels = np.zeros(q, dtype=np.intp) if num_levels is None else np.asarray(num_levels, dtype=np.intp)
        if levels.shape != (q,):
            raise ValueError(f"num_levels needs one entry per column ({q}); got {num_levels!r}")
        self._cont = np.flatnonzero(np.array([t == "c" for t in self.var_types], dtype=bool))
        self._disc = np.flatnonzero(np.array([t != "c" for t in self.var_types], dtype=bool))
        # inactive-able columns are evaluated one by one (_add_sparse_log_kernel), the others in one matrix product
        self._sparse = np.flatnonzero(sparse)
        dense = np.ones(q, dtype=bool)
        dense[self._sparse] = False
        self._dense_cont = self._cont[dense[self._cont]]
        self._dense_disc = self._disc[dense[self._disc]]
        self._sparse_mask = sparse
        self._active = ~np.isnan(data)
        weights = np.zeros(q) if level_prior_weights is None else np.asarray(level_prior_weights, dtype=float)
        if weights.shape != (q,) or not (np.isfinite(weights) & (weights >= 0)).all():
            raise ValueError(f"level_prior_weights needs one finite weight >= 0 per column ({q}); got {weights!r}")
        if (weights[self._cont] > 0).any():
            raise ValueError("level_prior_weights may be positive only on discrete columns ('u' or 'o')")
        self.level_prior_weights = weights
        for j in self._disc:
            col = data[self._active[:, j], j]
            if col.size == 0:
                continue
            if levels[j] < 1 or (col != np.round(col)).any() or col.min() < 0 or col.max() > levels[j] - 1:
                raise ValueError(
                    f"column {j} ({self.var_types[j]!r}) needs integer levels in [0, {levels[j] - 1}]"
                    " and num_levels >= 1"
                )
        if renormalize and len(self._cont):
            cont = data[:, self._cont]
            if np.nanmin(cont, initial=0.0) < 0.0 or np.nanmax(cont, initial=1.0) > 1.0:
                raise ValueError("continuous columns must lie in [0, 1] (ConfigSpace's vector form)")
        if not (np.isfinite(prior_weight) and prior_weight >= 0):
            raise ValueError(f"prior_weight must be a finite number >= 0; got {prior_weight!r}")
        self.prior_weight = float(prior_weight)
        if boundary not in BOUNDARIES:
            raise ValueError(f"boundary must be one of {BOUNDARIES}; got {boundary!r}")
        self.boundary = boundary if renormalize else "none"
        self.data = data
        self.num_levels = levels
        self.renormalize = bool(renormalize)
        self._max_bw = max_bandwidths(self.var_types, levels)
        if bandwidths is None:
            self.bandwidths = normal_reference_bandwidths(data, self.var_types, levels, min_bandwidth)
        else:
            bw = np.asarray(bandwidths, dtype=float).reshape(-1)
            if bw.shape != (q,) or not (bw > 0).all() or (bw > self._max_bw).any():
                raise ValueError(
                    f"bandwidths must be {q} positive values within each kernel's range "
                    f"(at most {self._max_bw.tolist()}); got {bw.tolist()}"
                )
            self.bandwidths = bw
        self._sampling_cdfs: dict[tuple[float, bool], list[np.ndarray]] = {}
        self._build_features()

    # ------------------------------------------------------------------ fit
    def _tables(self, bandwidths: np.ndarray, normalized: bool) -> list[np.ndarray]:
        """The kernel table of every discrete column, mixed with the uniform by ``level_prior_weights``."""
        tables = []
        for j in self._disc:
            c = int(self.num_levels[j])
            if self.var_types[j] == "u":
                table = aitchison_aitken_table(bandwidths[j], c)
            else:
                table = wang_ryzin_table(bandwidths[j], c, renormalize=normalized)
            w = float(self.level_prior_weights[j])
            if w > 0:
                n_j = float(self._active[:, j].sum())
                table = (n_j * table + w / c) / (n_j + w)
            tables.append(table)
        return tables

    def _continuous_log_normalizers(self, columns: np.ndarray) -> np.ndarray:
        """Per point and column: ``-log h - log sqrt(2 pi) - log(mass on [0, 1])``, shape ``(n, len(columns))``."""
        h = self.bandwidths[columns]
        out = np.broadcast_to(-np.log(h) - LOG_SQRT_2PI, (self.data.shape[0], len(h))).copy()
        centers = np.where(self._active[:, columns], self.data[:, columns], 0.5)
        if self.boundary == "truncate":
            out -= gaussian_log_mass(centers, h)
        elif self.boundary == "reflect":
            out -= reflection_log_mass(centers, h)
        return out

    def _build_features(self) -> None:
        n = self.data.shape[0]
        h = self.bandwidths[self._dense_cont]
        xc = self.data[:, self._dense_cont] / h
        const = -0.5 * np.einsum("ij,ij->i", xc, xc) - float(np.log(h).sum()) - len(h) * LOG_SQRT_2PI
        if self.boundary == "truncate" and len(h):
            const -= gaussian_log_mass(self.data[:, self._dense_cont], h).sum(axis=1)
        elif self.boundary == "reflect" and len(h):
            const -= reflection_log_mass(self.data[:, self._dense_cont], h).sum(axis=1)
        blocks = [xc, np.ones((n, 1))]
        self._offsets = []
        offset = xc.shape[1] + 1
        log_tables = {}
        for j, table in zip(self._disc, self._tables(self.bandwidths, self.renormalize), strict=True):
            log_tables[j] = np.maximum(np.log(np.maximum(table, 0.0)), _LOG_TINY)
        for j in self._dense_disc:
            log_table = log_tables[j]
            blocks.append(log_table[:, self.data[:, j].astype(np.intp)].T)
            self._offsets.append(offset)
            offset += log_table.shape[0]
        # inactive-able columns: the discrete ones' log tables, the continuous ones' per-point log normalisers
        self._sparse_log_tables = {int(j): log_tables[j] for j in self._sparse if self.var_types[j] != "c"}
        sparse_cont = np.array([j for j in self._sparse if self.var_types[j] == "c"], dtype=np.intp)
        self._sparse_log_norm = dict(
            zip(sparse_cont.tolist(), self._continuous_log_normalizers(sparse_cont).T, strict=True)
        )
        blocks.append(const[:, None])
        self._train_features = np.ascontiguousarray(np.hstack(blocks).T)  # (K, n)
        self._num_features = offset + 1
        self._log_n = float(np.log(n))
        # log of the mixture weight of the KDE and of the prior's weight times its (constant) log density
        self._log_kde_share = float(np.log(n / (n + self.prior_weight)))
        if self.prior_weight > 0:
            log_u = -float(np.log(self.num_levels[self._disc].astype(float)).sum())
            self._log_prior_term = float(np.log(self.prior_weight / (n + self.prior_weight))) + log_u

    # ------------------------------------------------------------------ density
    def logpdf(self, points: np.ndarray | Sequence) -> np.ndarray:
        """Log density at each row of ``points`` (shape ``(m, q)`` or ``(q,)``).

        Points outside the support (a continuous value outside [0, 1] when ``renormalize``, a level
        outside ``0 .. c-1``) get ``-inf``.

        Examples
        --------
        >>> kde = ProductKDE([[0.5]], 'c', bandwidths=[0.1], renormalize=False)
        >>> bool(np.isclose(kde.logpdf([0.5])[0], -np.log(0.1 * np.sqrt(2 * np.pi))))
        True
        """
        x = np.array(points, dtype=float, ndmin=2)
        if x.shape[1] != len(self.var_types):
            raise ValueError(f"points need {len(self.var_types)} columns; got shape {x.shape}")
        m = x.shape[0]
        query_missing = np.isnan(x) & self._sparse_mask  # marginalised entries of inactive-able columns
        outside = ~(np.isfinite(x) | query_missing).all(axis=1)
        if outside.any() or query_missing.any():
            x = np.where(np.isfinite(x), x, 0.0)
        feats = np.zeros((m, self._num_features))
        dc = len(self._dense_cont)
        if dc:
            xc = x[:, self._dense_cont]
            if self.renormalize:
                outside |= ((xc < 0.0) | (xc > 1.0)).any(axis=1)
            xc = xc / self.bandwidths[self._dense_cont]
            feats[:, :dc] = xc
            feats[:, dc] = -0.5 * np.einsum("ij,ij->i", xc, xc)
        rows = np.arange(m)
        for j, offset in zip(self._dense_disc, self._offsets, strict=True):
            level = np.rint(x[:, j])
            bad = (level < 0) | (level > self.num_levels[j] - 1)
            outside |= bad
            feats[rows, offset + np.where(bad, 0, level).astype(np.intp)] = 1.0
        feats[:, -1] = 1.0
        log_k = _matmul_on_this_thread(feats, self._train_features)  # (m, n)
        if self.boundary == "reflect" and dc:
            inside = np.clip(x[:, self._dense_cont], 0.0, 1.0)
            for k, j in enumerate(self._dense_cont):
                log_k += reflection_log_correction(inside[:, k], self.data[:, j], float(self.bandwidths[j]))
        for j in self._sparse:
            outside |= self._add_sparse_log_kernel(log_k, j, x[:, j], ~query_missing[:, j])
        top = log_k.max(axis=1)
        log_k -= top[:, None]
        # exp in float32 is ~2.5x faster; after subtracting the max the terms are in (0, 1] and the
        # sum (in float64) is >= 1, so the log density keeps a relative accuracy of ~1e-7.
        terms = log_k.astype(np.float32)
        np.exp(terms, out=terms)
        out = top + np.log(terms.sum(axis=1, dtype=np.float64)) - self._log_n
        if self.prior_weight > 0:
            prior = self._log_prior_term
            if query_missing.any():  # the uniform's factors of marginalised discrete columns are left out too
                log_c = np.log(np.maximum(self.num_levels, 1).astype(float))
                prior = prior + (query_missing * np.where([t != "c" for t in self.var_types], log_c, 0.0)).sum(axis=1)
            out = np.logaddexp(out + self._log_kde_share, prior)
        out[outside] = -np.inf
        return out

    def _add_sparse_log_kernel(
        self, log_k: np.ndarray, j: int, values: np.ndarray, query_active: np.ndarray
    ) -> np.ndarray:
        """Add column ``j``'s log kernel (an inactive-able column) to ``log_k`` (m, n), in place.

        Rows whose query entry is marginalised (``query_active`` False) get nothing; training points inactive
        in the column contribute the uniform density. Returns the mask of query rows outside the support.
        """
        active = self._active[:, j]
        rows = np.flatnonzero(query_active)
        outside = np.zeros(len(values), dtype=bool)
        if not len(rows):
            return outside
        v = values[rows]
        if self.var_types[j] == "c":
            h = float(self.bandwidths[j])
            if self.renormalize:
                outside[rows] = (v < 0.0) | (v > 1.0)
            centers = np.where(active, self.data[:, j], 0.5)
            z = (v[:, None] - centers[None, :]) / h
            term = -0.5 * z * z + self._sparse_log_norm[int(j)][None, :]
            if self.boundary == "reflect":
                term += reflection_log_correction(np.clip(v, 0.0, 1.0), centers, h)
            term[:, ~active] = 0.0  # the uniform density on [0, 1]
        else:
            c = int(self.num_levels[j])
            level = np.rint(v)
            bad = (level < 0) | (level > c - 1)
            outside[rows] = bad
            centers = np.where(active, self.data[:, j], 0.0).astype(np.intp)
            term = self._sparse_log_tables[int(j)][np.where(bad, 0, level).astype(np.intp)][:, centers]
            term[:, ~active] = -float(np.log(c))
        log_k[rows] += term
        return outside

    def pdf(self, points: np.ndarray | Sequence) -> np.ndarray:
        """Density at each row of ``points``; see :meth:`logpdf`.

        Examples
        --------
        >>> kde = ProductKDE([[0], [0], [1]], 'u', num_levels=[3], bandwidths=[0.3])
        >>> kde.pdf([[0], [1], [2]]).round(3).tolist()
        [0.517, 0.333, 0.15]
        """
        return np.exp(self.logpdf(points))

    # ------------------------------------------------------------------ sampling
    def _cdfs(self, factor: float, categorical_resample: bool) -> list[np.ndarray]:
        key = (factor, categorical_resample)
        cdfs = self._sampling_cdfs.get(key)
        if cdfs is None:
            bw = self.bandwidths * factor
            if categorical_resample:
                # keep with probability 1 - λ, else a uniform level: Aitchison–Aitken with λ (c - 1) / c
                categorical = np.array([t == "u" for t in self.var_types], dtype=bool)
                levels = np.maximum(self.num_levels, 1)
                bw = np.where(categorical, self.bandwidths * (levels - 1) / levels, bw)
            bw = np.minimum(bw, self._max_bw)
            cdfs = [np.cumsum(t, axis=0).T for t in self._tables(bw, normalized=True)]
            self._sampling_cdfs[key] = cdfs
        return cdfs

    def sample(
        self,
        n: int,
        rng: np.random.Generator,
        bandwidth_factor: float = 1.0,
        categorical_resample: bool = False,
    ) -> np.ndarray:
        """Draw ``n`` points around uniformly chosen training points, with widened bandwidths.

        Each draw picks a training row, then perturbs each column with its kernel (a uniform value where the
        row is inactive, see ``inactive_columns``), bandwidth times
        ``bandwidth_factor``: continuous columns from a normal truncated to [0, 1] (folded into [0, 1] with
        ``boundary="reflect"``); discrete columns
        from the kernel table, whose bandwidth is capped at the kernel's maximum. For an unordered
        categorical this keeps the level with probability ``1 - λ'`` and otherwise picks one of the
        *other* ``c - 1`` levels uniformly (exactly the Aitchison–Aitken kernel; at the cap, every level
        is equally likely). Ordinal columns draw from the renormalised Wang–Ryzin kernel.

        With ``categorical_resample=True``, unordered categorical columns are not widened: each keeps
        the datum's level with probability ``1 - λ`` and otherwise draws a uniform level, which may be the
        same one (HpBandSter's BOHB; the Aitchison–Aitken kernel with bandwidth ``λ (c - 1) / c``, half of
        λ for two levels). BOHB samples its candidates this way (see docs/bohb.md for the measurements).

        Parameters
        ----------
        n : int
        rng : numpy.random.Generator
        bandwidth_factor : float
        categorical_resample : bool

        Returns
        -------
        numpy.ndarray, shape (n, q)

        Examples
        --------
        >>> kde = ProductKDE([[1], [1], [1], [0]], 'u', num_levels=[2])
        >>> kde.bandwidths.round(3).tolist()
        [0.348]
        >>> x = kde.sample(10000, np.random.default_rng(0), 3.0, categorical_resample=True)
        >>> round(float(x.mean()), 2)  # 3/4 of the rows are 1; each flips with probability 0.348 / 2: 0.66
        0.66
        """
        factor = float(bandwidth_factor)
        idx = rng.integers(self.data.shape[0], size=int(n))
        centers = self.data[idx]
        out = centers.copy()
        inactive = ~self._active[idx] if len(self._sparse) else None  # centres' inactive entries: uniform draws
        if len(self._cont):
            scale = self.bandwidths[self._cont] * factor
            draw = sample_reflected_normal if self.boundary == "reflect" else sample_truncated_normal
            uniform = rng.random((len(idx), len(self._cont)))
            if inactive is None:
                out[:, self._cont] = draw(centers[:, self._cont], scale, uniform)
            else:
                missing = inactive[:, self._cont]
                drawn = draw(np.where(missing, 0.5, centers[:, self._cont]), scale, uniform)
                out[:, self._cont] = np.where(missing, uniform, drawn)
        if len(self._disc):
            uniform = rng.random((len(idx), len(self._disc)))
            cdfs = self._cdfs(factor, bool(categorical_resample))
            if inactive is None:
                out[:, self._disc] = sample_from_tables(centers[:, self._disc].astype(np.intp), cdfs, uniform)
            else:
                missing = inactive[:, self._disc]
                levels = np.where(missing, 0.0, centers[:, self._disc]).astype(np.intp)
                drawn = sample_from_tables(levels, cdfs, uniform)
                out[:, self._disc] = np.where(missing, np.floor(uniform * self.num_levels[self._disc]), drawn)
        if self.prior_weight > 0:
            from_prior = rng.random(len(idx)) < self.prior_weight / (self.data.shape[0] + self.prior_weight)
            k = int(from_prior.sum())
            if k:
                uniform = rng.random((k, out.shape[1]))
                uniform[:, self._disc] = np.floor(uniform[:, self._disc] * self.num_levels[self._disc])
                out[from_prior] = uniform
        return out

    def __len__(self) -> int:
        return int(self.data.shape[0])

    def __repr__(self) -> str:
        return (
            f"ProductKDE(n={len(self)}, var_types={self.var_types!r}, "
            f"bandwidths={np.round(self.bandwidths, 4).tolist()})"
        )
