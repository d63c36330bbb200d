"""Unit tests of the product-kernel KDE (bandster.samplers.kde): densities, bandwidths, sampling."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import stats
from statsmodels.nonparametric.kernel_density import KDEMultivariate

from bandster.samplers.kde import ProductKDE, normal_reference_bandwidths
from bandster.samplers.kde.bandwidth import WANG_RYZIN_MAX_BANDWIDTH, categorical_spread
from bandster.samplers.kde.kernels import (
    aitchison_aitken_table,
    gaussian_log_mass,
    reflection_log_correction,
    reflection_log_mass,
    sample_reflected_normal,
    sample_truncated_normal,
    wang_ryzin_table,
)

# statsmodels (the reference) warns about its own future RNG default when a KDEMultivariate is built
pytestmark = pytest.mark.filterwarnings("ignore:After 0.17:FutureWarning")


@pytest.fixture(autouse=True)
def _numpy_warnings_are_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with np.errstate(all="raise", under="ignore"):
            yield


def _grid(n: int = 20001) -> np.ndarray:
    return np.linspace(0.0, 1.0, n)


# ---------------------------------------------------------------------------- kernels
def test_discrete_kernel_tables_are_distributions():
    for c in (2, 3, 7):
        for lam in (1e-3, 0.3, (c - 1) / c):
            assert np.allclose(aitchison_aitken_table(lam, c).sum(axis=0), 1.0)
        for lam in (1e-3, 0.5, WANG_RYZIN_MAX_BANDWIDTH):
            table = wang_ryzin_table(lam, c)
            assert np.allclose(table.sum(axis=0), 1.0)
            assert (table > 0).all()
    # at the upper end the Aitchison-Aitken kernel is uniform
    assert np.allclose(aitchison_aitken_table(3 / 4, 4), 0.25)


def test_gaussian_mass_of_truncated_kernel():
    centers = np.array([[0.0, 0.5, 1.0, 0.3]])
    h = np.array([0.1, 0.1, 0.1, 10.0])
    expected = stats.norm.cdf((1 - centers) / h) - stats.norm.cdf(-centers / h)
    assert np.allclose(np.exp(gaussian_log_mass(centers, h)), expected, rtol=1e-12)


# ---------------------------------------------------------------------------- bandwidths
def test_bandwidths_match_statsmodels_normal_reference():
    rng = np.random.default_rng(0)
    data = np.column_stack([rng.random(40), rng.beta(2, 5, 40), rng.integers(0, 5, 40), rng.integers(0, 2, 40)])
    ours = normal_reference_bandwidths(data, "coou", [0, 5, 5, 2], min_bandwidth=1e-12)
    ref = KDEMultivariate(data, "coou", bw="normal_reference").bw
    # continuous and ordinal: statsmodels' rule exactly (ordinal unclipped here); a binary
    # categorical's label-invariant spread equals its index's standard deviation
    assert ours[:2] == pytest.approx(ref[:2], rel=1e-12)
    assert ours[3] == pytest.approx(ref[3], rel=1e-12)
    assert ours[2] == pytest.approx(min(ref[2], WANG_RYZIN_MAX_BANDWIDTH), rel=1e-12)


def test_categorical_bandwidth_clipped_into_valid_range():
    # levels 0 and 9 of a 10-level categorical: the continuous rule on the index gives λ > 1
    data = np.array([[0.0], [9.0], [0.0], [9.0], [4.0]])
    index_rule = KDEMultivariate(data, "c", bw="normal_reference").bw[0]
    assert index_rule > 1.0
    for c in (2, 3, 10):
        col = np.arange(12)[:, None] % c
        bw = normal_reference_bandwidths(col.astype(float), "u", [c])[0]
        assert 1e-3 <= bw <= (c - 1) / c
        assert normal_reference_bandwidths(col.astype(float), "o", [c])[0] <= WANG_RYZIN_MAX_BANDWIDTH
    kde = ProductKDE(data, "u", num_levels=[10])
    assert kde.bandwidths[0] <= 0.9
    assert np.isclose(kde.pdf(np.arange(10)[:, None]).sum(), 1.0)


def test_categorical_bandwidth_is_label_invariant():
    a = np.array([0, 0, 1, 2, 2, 2], dtype=float)[:, None]
    relabelled = np.array([2, 2, 0, 1, 1, 1], dtype=float)[:, None]
    expected = normal_reference_bandwidths(relabelled, "u", [3])
    assert normal_reference_bandwidths(a, "u", [3]) == pytest.approx(expected)
    assert categorical_spread(np.array([1, 1, 1]), 3) == 0.0


def test_min_bandwidth_floor_and_constant_column_is_finite():
    data = np.column_stack([np.full(20, 0.4), np.linspace(0, 1, 20)])
    kde = ProductKDE(data, "cc", min_bandwidth=1e-3)
    assert kde.bandwidths[0] == 1e-3
    logp = kde.logpdf(np.array([[0.4, 0.5], [0.9, 0.5], [0.0, 0.0]]))
    assert np.isfinite(logp).all()
    assert logp[0] > logp[1]
    # the constant column's marginal still integrates to 1 (fine grid around the spike)
    x = np.linspace(0.39, 0.41, 40001)
    kde1 = ProductKDE(np.full((5, 1), 0.4), "c")
    assert np.trapezoid(kde1.pdf(x[:, None]), x) == pytest.approx(1.0, abs=1e-6)


# ---------------------------------------------------------------------------- densities
def test_density_matches_statsmodels_with_its_kernels():
    rng = np.random.default_rng(1)
    data = np.column_stack([rng.random(30), rng.random(30), rng.integers(0, 3, 30), rng.integers(0, 4, 30)])
    data[:3, 2] = [0, 1, 2]  # every level seen: statsmodels infers c from the data
    data[:4, 3] = [0, 1, 2, 3]
    sm = KDEMultivariate(data, "ccuo", bw="normal_reference")
    bw = sm.bw.copy()
    bw[2] = min(bw[2], 2 / 3)
    bw[3] = min(bw[3], 0.9)
    sm = KDEMultivariate(data, "ccuo", bw=bw)
    ours = ProductKDE(data, "ccuo", num_levels=[0, 0, 3, 4], bandwidths=bw, renormalize=False)
    points = np.column_stack([rng.random(50), rng.random(50), rng.integers(0, 3, 50), rng.integers(0, 4, 50)])
    assert ours.pdf(points) == pytest.approx(sm.pdf(points), rel=1e-6)


def test_continuous_density_matches_statsmodels_away_from_the_boundary():
    # renormalised (truncated) kernels differ from statsmodels' only through the mass near 0 and 1
    rng = np.random.default_rng(2)
    data = 0.3 + 0.4 * rng.random((25, 2))
    sm = KDEMultivariate(data, "cc", bw=[0.03, 0.04])
    ours = ProductKDE(data, "cc", bandwidths=[0.03, 0.04])
    points = 0.35 + 0.3 * rng.random((40, 2))
    assert ours.pdf(points) == pytest.approx(sm.pdf(points), rel=1e-6)


def test_1d_density_integrates_to_one_including_near_the_boundary():
    data = np.array([[0.0], [0.02], [0.5], [0.97], [1.0]])
    x = _grid()
    for bw in (0.01, 0.1, 0.5):
        kde = ProductKDE(data, "c", bandwidths=[bw])
        assert np.trapezoid(kde.pdf(x[:, None]), x) == pytest.approx(1.0, abs=1e-5)
    # statsmodels' untruncated kernel loses mass at the boundary: that is why ours is renormalised
    untruncated = ProductKDE(data, "c", bandwidths=[0.1], renormalize=False)
    assert np.trapezoid(untruncated.pdf(x[:, None]), x) < 0.8


@pytest.mark.parametrize("kind", ["u", "o"])
def test_mixed_2d_density_integrates_to_one(kind):
    rng = np.random.default_rng(3)
    data = np.column_stack([rng.random(15), rng.integers(0, 2, 15)])  # levels 2 and 3 of 4 unseen
    kde = ProductKDE(data, "c" + kind, num_levels=[0, 4])
    x = _grid(5001)
    total = 0.0
    for level in range(4):
        pts = np.column_stack([x, np.full_like(x, level)])
        total += np.trapezoid(kde.pdf(pts), x)
    assert total == pytest.approx(1.0, abs=1e-5)


def test_unseen_category_has_positive_density_and_no_division_by_zero():
    data = np.zeros((6, 1))  # only level 0 of 3 seen
    kde = ProductKDE(data, "u", num_levels=[3])
    p = kde.pdf(np.array([[0.0], [1.0], [2.0]]))
    assert (p > 0).all() and np.isfinite(p).all()
    assert p.sum() == pytest.approx(1.0)
    assert p[1] == p[2]
    ordinal = ProductKDE(data, "o", num_levels=[3])
    q = ordinal.pdf(np.array([[0.0], [1.0], [2.0]]))
    assert (q > 0).all() and q.sum() == pytest.approx(1.0) and q[1] > q[2]


def test_logpdf_is_minus_inf_outside_the_support():
    kde = ProductKDE(np.array([[0.5, 1.0]]), "cu", num_levels=[0, 2])
    logp = kde.logpdf(np.array([[1.5, 1.0], [0.5, 2.0], [np.nan, 0.0], [0.5, 0.0]]))
    assert logp[:3].tolist() == [-np.inf] * 3
    assert np.isfinite(logp[3])


def test_many_points_at_once_equal_one_at_a_time():
    rng = np.random.default_rng(4)
    data = np.column_stack([rng.random(40), rng.integers(0, 3, 40), rng.integers(0, 5, 40)])
    kde = ProductKDE(data, "cuo", num_levels=[0, 3, 5])
    pts = kde.sample(30, rng, 2.0)
    batch = kde.logpdf(pts)
    single = np.array([kde.logpdf(p)[0] for p in pts])
    assert batch == pytest.approx(single, rel=1e-12)


def test_tiled_matrix_product_equals_the_plain_one():
    from bandster.samplers.kde.product_kde import _matmul_on_this_thread

    rng = np.random.default_rng(10)
    for m, k, n in [(64, 30, 4250), (300, 40, 1000), (2000, 200, 7), (3, 5, 7)]:
        a, b = rng.random((m, k)), rng.random((k, n))
        assert np.allclose(_matmul_on_this_thread(a, b), a @ b, rtol=1e-12)


def test_large_batches_of_points_equal_small_ones():
    rng = np.random.default_rng(11)
    data = np.column_stack([rng.random(3000), rng.integers(0, 3, 3000)])
    kde = ProductKDE(data, "cu", num_levels=[0, 3])
    pts = kde.sample(500, rng, 3.0)
    assert kde.logpdf(pts) == pytest.approx(np.concatenate([kde.logpdf(pts[i : i + 7]) for i in range(0, 500, 7)]))


# ---------------------------------------------------------------------------- sampling
def test_samples_stay_in_bounds():
    rng = np.random.default_rng(5)
    data = np.array([[0.0, 0, 0], [1.0, 2, 4], [0.999, 1, 2]])
    kde = ProductKDE(data, "cuo", num_levels=[0, 3, 5])
    for factor in (1.0, 3.0, 100.0):
        s = kde.sample(5000, rng, factor)
        assert ((s[:, 0] >= 0) & (s[:, 0] <= 1)).all()
        assert set(np.unique(s[:, 1])) <= {0.0, 1.0, 2.0}
        assert set(np.unique(s[:, 2])) <= {0.0, 1.0, 2.0, 3.0, 4.0}
    edge = sample_truncated_normal(np.array([1.0, 0.0]), np.array([1e-6, 1e-6]), np.array([1.0, 0.0]))
    assert ((edge >= 0) & (edge <= 1)).all()


def test_continuous_samples_follow_the_truncated_kernel():
    rng = np.random.default_rng(6)
    kde = ProductKDE(np.array([[0.9]]), "c", bandwidths=[0.1])
    s = kde.sample(20000, rng, bandwidth_factor=2.0)[:, 0]
    mu, sigma = 0.9, 0.2
    ref = stats.truncnorm((0 - mu) / sigma, (1 - mu) / sigma, loc=mu, scale=sigma)
    assert stats.kstest(s, ref.cdf).pvalue > 1e-3


def test_categorical_samples_keep_or_move_to_another_level():
    rng = np.random.default_rng(7)
    kde = ProductKDE(np.array([[1.0]]), "u", num_levels=[4], bandwidths=[0.2])
    s = kde.sample(40000, rng, bandwidth_factor=1.0)[:, 0]
    freq = np.bincount(s.astype(int), minlength=4) / s.size
    assert freq == pytest.approx([0.2 / 3, 0.8, 0.2 / 3, 0.2 / 3], abs=0.01)
    # widened beyond the valid range: capped at (c-1)/c, i.e. uniform
    s = kde.sample(40000, rng, bandwidth_factor=10.0)[:, 0]
    assert np.bincount(s.astype(int), minlength=4) / s.size == pytest.approx([0.25] * 4, abs=0.01)


def test_categorical_resample_keeps_the_level_with_probability_one_minus_lambda():
    """HpBandSter's BOHB rule: keep with probability 1 - λ (not widened), else a uniform level (maybe the same)."""
    rng = np.random.default_rng(7)
    kde = ProductKDE(np.array([[0.5, 1.0]]), "cu", num_levels=[0, 4], bandwidths=[0.1, 0.2])
    for factor in (1.0, 3.0, 10.0):  # the categorical column ignores the factor
        s = kde.sample(40000, rng, bandwidth_factor=factor, categorical_resample=True)
        freq = np.bincount(s[:, 1].astype(int), minlength=4) / len(s)
        # level 1: 0.8 + 0.2 / 4 = 0.85; each other level 0.2 / 4 = 0.05
        assert freq == pytest.approx([0.05, 0.85, 0.05, 0.05], abs=0.01)
        # the continuous column is still widened: sd of a N(0.5, 0.1 * factor) truncated to [0, 1]
        sigma = 0.1 * factor
        ref = stats.truncnorm(-0.5 / sigma, 0.5 / sigma, loc=0.5, scale=sigma)
        assert s[:, 0].std() == pytest.approx(ref.std(), rel=0.03)
    # two levels, λ = 0.4: the datum's level is kept in 1 - 0.4 + 0.4 / 2 = 80 % of the draws
    kde2 = ProductKDE(np.array([[0.0]]), "u", num_levels=[2], bandwidths=[0.4])
    s = kde2.sample(40000, rng, bandwidth_factor=3.0, categorical_resample=True)[:, 0]
    assert float((s == 0).mean()) == pytest.approx(0.8, abs=0.01)
    # ordinal columns are still drawn from the widened Wang-Ryzin kernel
    kde3 = ProductKDE(np.array([[2.0]]), "o", num_levels=[5], bandwidths=[0.1])
    s = kde3.sample(40000, rng, bandwidth_factor=3.0, categorical_resample=True)[:, 0]
    freq = np.bincount(s.astype(int), minlength=5) / s.size
    assert freq == pytest.approx(wang_ryzin_table(0.3, 5)[:, 2], abs=0.01)


def test_prior_weight_mixes_the_uniform_density_in():
    # one continuous point, h = 0.1 (untruncated), w = 1: p(x) = (N(x; 0.5, 0.1) + 1) / 2
    kde = ProductKDE([[0.5]], "c", bandwidths=[0.1], renormalize=False, prior_weight=1.0)
    normal = 1 / (0.1 * np.sqrt(2 * np.pi))
    assert kde.pdf([[0.5]])[0] == pytest.approx((normal + 1) / 2)
    assert kde.pdf([[0.0]])[0] == pytest.approx((normal * np.exp(-12.5) + 1) / 2)
    # a categorical with 3 levels, λ = 0.001, w = 2 over n = 1: level 2 has (0.001 / 2 + 2 / 3) / 3
    kde = ProductKDE([[0]], "u", num_levels=[3], bandwidths=[1e-3], prior_weight=2.0)
    assert kde.pdf([[2]])[0] == pytest.approx((0.0005 + 2 / 3) / 3)
    assert kde.pdf([[0], [1], [2]]).sum() == pytest.approx(1.0)
    # the default is the plain KDE
    assert ProductKDE([[0]], "u", num_levels=[3], bandwidths=[1e-3]).pdf([[2]])[0] == pytest.approx(0.0005)


def test_prior_weight_draws_uniform_points():
    # 3 points on level 0 of 4, λ = 0.001, w = 1: a quarter of the draws are uniform, 3/4 of those leave level 0
    kde = ProductKDE([[0.0, 0.5]] * 3, "uc", num_levels=[4, 0], bandwidths=[1e-3, 1e-3], prior_weight=1.0)
    s = kde.sample(40000, np.random.default_rng(3), bandwidth_factor=3.0, categorical_resample=True)
    assert float((s[:, 0] != 0).mean()) == pytest.approx(0.25 * 0.75, abs=0.01)
    moved = np.abs(s[:, 1] - 0.5) > 0.01  # the continuous column: uniform in the prior draws only
    assert float(moved.mean()) == pytest.approx(0.25 * 0.98, abs=0.01)
    assert set(np.unique(s[:, 0])) <= {0.0, 1.0, 2.0, 3.0}


def test_ordinal_samples_follow_the_wang_ryzin_kernel():
    rng = np.random.default_rng(8)
    kde = ProductKDE(np.array([[2.0]]), "o", num_levels=[5], bandwidths=[0.3])
    s = kde.sample(40000, rng, bandwidth_factor=1.0)[:, 0]
    freq = np.bincount(s.astype(int), minlength=5) / s.size
    assert freq == pytest.approx(wang_ryzin_table(0.3, 5)[:, 2], abs=0.01)


def test_sampling_is_reproducible_with_the_generator():
    data = np.array([[0.2, 1.0], [0.7, 0.0]])
    kde = ProductKDE(data, "cu", num_levels=[0, 2])
    a = kde.sample(10, np.random.default_rng(9), 3.0)
    b = kde.sample(10, np.random.default_rng(9), 3.0)
    assert np.array_equal(a, b)


# ---------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("data", "types", "levels", "bw"),
    [
        ([[np.nan]], "c", None, None),
        ([[0.5]], "x", None, None),
        ([[3.0]], "u", [3], None),
        ([[0.5]], "u", [3], None),
        ([[1.5]], "c", None, None),
        ([[1.0]], "u", [3], [0.9]),
        ([[0.5, 0.5]], "c", None, None),
    ],
)
def test_invalid_input_is_rejected(data, types, levels, bw):
    with pytest.raises(ValueError):
        ProductKDE(np.array(data), types, num_levels=levels, bandwidths=bw)


# ---------------------------------------------------------------------------- boundary treatments
def test_reflection_correction_equals_the_three_gaussians():
    x, centers, h = np.array([0.0, 0.03, 0.5, 0.97, 1.0]), np.array([0.0, 0.02, 0.6, 0.99]), 0.05
    plain = stats.norm.pdf(x[:, None], centers[None, :], h)
    images = plain + stats.norm.pdf(x[:, None], -centers[None, :], h)
    images += stats.norm.pdf(x[:, None], 2 - centers[None, :], h)
    np.testing.assert_allclose(reflection_log_correction(x, centers, h), np.log(images / plain), atol=1e-12)
    # by hand: x = 0.03 from x_i = 0.02, h = 0.05:
    # log(1 + exp(-2 * 0.03 * 0.02 / 0.0025) + exp(-2 * 0.97 * 0.98 / 0.0025)), the last term ~e^-760
    assert reflection_log_correction(np.array([0.03]), np.array([0.02]), h)[0, 0] == pytest.approx(
        np.log1p(np.exp(-0.48)), rel=1e-12
    )


def test_reflection_mass_is_the_normal_mass_on_minus_one_to_two():
    centers, h = np.array([[0.0, 0.4, 1.0]]), np.array([0.5, 0.5, 0.5])
    expected = stats.norm.cdf(2, centers, h) - stats.norm.cdf(-1, centers, h)
    np.testing.assert_allclose(np.exp(reflection_log_mass(centers, h)), expected, rtol=1e-12)


def test_reflected_density_by_hand_and_integrates_to_one():
    # one point at 0.02, h = 0.1: at x = 0 the kernel and its image in 0 coincide; the image in 1 is negligible
    kde = ProductKDE([[0.02]], "c", bandwidths=[0.1], boundary="reflect")
    mass = stats.norm.cdf(2, 0.02, 0.1) - stats.norm.cdf(-1, 0.02, 0.1)
    hand = (2 * stats.norm.pdf(0.02 / 0.1) + stats.norm.pdf((0 - 2 + 0.02) / 0.1)) / 0.1 / mass
    assert kde.pdf([[0.0]])[0] == pytest.approx(hand, rel=1e-6)
    for bw in (0.01, 0.1, 0.4):
        kde = ProductKDE([[0.0], [0.03], [0.5], [0.99]], "c", bandwidths=[bw], boundary="reflect")
        total = np.trapezoid(kde.pdf(_grid()[:, None]), _grid())
        assert total == pytest.approx(1.0, abs=1e-4)


def test_uniform_data_boundary_bias_reflect_vs_truncate_vs_none():
    # for data spread evenly over [0, 1] the true density is 1; at the edge the reflected estimate is ~1,
    # the truncated one ~log 2 and the untruncated one ~1/2 (the hand-computed limits for small h)
    data = ((np.arange(2000) + 0.5) / 2000)[:, None]
    edge = {
        b: ProductKDE(data, "c", bandwidths=[0.02], boundary=b).pdf([[0.0]])[0] for b in ("reflect", "truncate", "none")
    }
    assert edge["reflect"] == pytest.approx(1.0, abs=0.01)
    assert edge["truncate"] == pytest.approx(np.log(2.0), abs=0.01)
    assert edge["none"] == pytest.approx(0.5, abs=0.01)


def test_untruncated_boundary_is_the_plain_gaussian_and_keeps_the_support():
    kde = ProductKDE([[0.0], [0.5]], "c", bandwidths=[0.2], boundary="none")
    hand = 0.5 * (stats.norm.pdf(0.1, 0.0, 0.2) + stats.norm.pdf(0.1, 0.5, 0.2))
    assert kde.pdf([[0.1]])[0] == pytest.approx(hand, rel=1e-6)  # float32 exp: ~1e-7
    assert kde.logpdf([[1.2]])[0] == -np.inf


def test_reflected_samples_follow_the_folded_normal():
    # a point at 0 with scale 0.1: the folded draws are |N(0, 0.1)|, mean 0.1 * sqrt(2 / pi)
    kde = ProductKDE([[0.0]], "c", bandwidths=[0.05], boundary="reflect")
    x = kde.sample(40000, np.random.default_rng(3), bandwidth_factor=2.0)[:, 0]
    assert x.min() >= 0.0 and x.max() <= 1.0
    assert x.mean() == pytest.approx(0.1 * np.sqrt(2 / np.pi), rel=0.02)
    # the same draws by hand: a draw 0.25 below a mean of 0.1 lands at 0.15; 0.4 above 0.8 at 0.8
    u = stats.norm.cdf([-2.5, 4.0])
    np.testing.assert_allclose(sample_reflected_normal(np.array([0.1, 0.8]), np.array([0.1, 0.1]), u), [0.15, 0.8])


def test_per_column_min_bandwidth():
    data = np.array([[0.5, 0.5, 0], [0.5, 0.5, 1]])
    bw = normal_reference_bandwidths(data, "ccu", [0, 0, 2], np.array([0.2, 1e-3, 1e-3]))
    assert bw[:2].tolist() == [0.2, 1e-3]
    kde = ProductKDE(data, "ccu", num_levels=[0, 0, 2], min_bandwidth=[0.2, 0.01, 1e-3])
    assert kde.bandwidths[:2].tolist() == [0.2, 0.01]


def test_unknown_boundary_is_rejected():
    with pytest.raises(ValueError, match="boundary must be one of"):
        ProductKDE([[0.5]], "c", boundary="wrap")


def test_inactive_columns_by_hand():
    # columns: a two-level categorical (λ = 0.2) and a continuous one (h = 0.1), inactive in the second point
    kde = ProductKDE([[0, 0.5], [1, np.nan]], "uc", num_levels=[2, 0], bandwidths=[0.2, 0.1], inactive_columns=[1])
    gauss = 1.0 / (0.1 * np.sqrt(2.0 * np.pi)) / (stats.norm.cdf(5.0) - stats.norm.cdf(-5.0))
    # point 1: 0.8 x the truncated Gaussian at its centre; point 2 (inactive in x): 0.2 x the uniform density 1
    assert kde.pdf([[0, 0.5]])[0] == pytest.approx((0.8 * gauss + 0.2 * 1.0) / 2)
    assert kde.pdf([[1, 0.9]])[0] == pytest.approx((0.2 * gauss * np.exp(-0.5 * 16) + 0.8) / 2)
    # a query with x inactive: the marginal of the categorical column
    assert kde.pdf([[0, np.nan], [1, np.nan]]).tolist() == pytest.approx([0.5, 0.5])
    # outside the support, and NaN in a column not named inactive, still give density 0
    assert kde.pdf([[0, 1.5], [np.nan, 0.5]]).tolist() == [0.0, 0.0]
    with pytest.raises(ValueError, match="inactive_columns"):
        ProductKDE([[0, np.nan]], "uc", num_levels=[2, 0])
    with pytest.raises(ValueError, match="inactive_columns"):
        ProductKDE([[0, 0.5]], "uc", num_levels=[2, 0], inactive_columns=[2])


def test_inactive_discrete_column_by_hand_and_marginal_integrates_to_one():
    # a 3-level categorical inactive in the first point: that point's kernel there is 1/3 per level
    kde = ProductKDE([[0.2, np.nan], [0.7, 2]], "cu", num_levels=[0, 3], bandwidths=[0.1, 0.3], inactive_columns=[1])
    k = stats.truncnorm.pdf
    for level in range(3):
        expected = (k(0.3, -2.0, 8.0, 0.2, 0.1) / 3 + k(0.3, -7.0, 3.0, 0.7, 0.1) * (0.7 if level == 2 else 0.15)) / 2
        assert kde.pdf([[0.3, level]])[0] == pytest.approx(expected)
    grid = np.linspace(0.0, 1.0, 4001)
    total = sum(np.trapezoid(kde.pdf(np.column_stack([grid, np.full_like(grid, lv)])), grid) for lv in range(3))
    assert total == pytest.approx(1.0, abs=1e-4)


def test_bandwidth_of_a_column_with_inactive_entries_uses_its_active_entries():
    data = np.array([[0.1, 0.0], [np.nan, 0.5], [0.3, 1.0]])
    bw = normal_reference_bandwidths(data, "cc", [0, 0])
    assert bw[0] == pytest.approx(1.06 * 0.1 * 2 ** (-1 / 6))  # std of 0.1 and 0.3, n = 2, q = 2
    assert bw[1] == pytest.approx(1.06 * np.std([0.0, 0.5, 1.0]) * 3 ** (-1 / 6))
    # a column with no active entry gets its floor
    assert normal_reference_bandwidths(np.array([[np.nan, 0.2], [np.nan, 0.4]]), "cc", [0, 0], 0.01)[0] == 0.01


def test_samples_around_an_inactive_entry_are_the_uniform_draws():
    # x inactive in the only point: its draws are the generator's uniform numbers themselves; the level is kept
    # with probability 1 - λ = 0.4 (Aitchison-Aitken, λ = 0.6, 3 levels)
    kde = ProductKDE([[np.nan, 1]], "cu", num_levels=[0, 3], bandwidths=[0.1, 0.6], inactive_columns=[0, 1])
    x = kde.sample(4000, np.random.default_rng(0), bandwidth_factor=1)
    rng = np.random.default_rng(0)
    rng.integers(1, size=4000)
    assert np.array_equal(x[:, 0], rng.random((4000, 1))[:, 0])
    assert set(np.unique(x[:, 1])) == {0.0, 1.0, 2.0} and np.mean(x[:, 1] == 1) == pytest.approx(0.4, abs=0.03)
    # a level column inactive in the only point: uniform levels
    levels = ProductKDE([[0.5, np.nan]], "cu", num_levels=[0, 3], inactive_columns=[1]).sample(6000, rng)[:, 1]
    assert np.bincount(levels.astype(int), minlength=3) / 6000 == pytest.approx([1 / 3] * 3, abs=0.03)


def test_level_prior_weights_by_hand():
    # three points at level 0 of a 3-level categorical, λ = 0.3: the kernel is 0.7 / 0.15 / 0.15; prior weight 1
    kde = ProductKDE([[0], [0], [0]], "u", num_levels=[3], bandwidths=[0.3], level_prior_weights=[1.0])
    other = (0.45 + 1 / 3) / 4
    assert kde.pdf([[0], [1], [2]]).tolist() == pytest.approx([(2.1 + 1 / 3) / 4, other, other])
    # sampling draws from the same mixture (here without categorical_resample: the kernel table itself)
    x = kde.sample(20000, np.random.default_rng(1))
    assert np.mean(x[:, 0] == 0) == pytest.approx((2.1 + 1 / 3) / 4, abs=0.01)
    # the weight counts the column's active points only
    sparse = ProductKDE([[0, 0.5], [np.nan, 0.5]], "uc", num_levels=[3, 0], bandwidths=[0.3, 0.1],
                        inactive_columns=[0, 1], level_prior_weights=[1.0, 0.0])
    assert sparse.pdf([[1, np.nan]])[0] == pytest.approx(((0.15 + 1 / 3) / 2 + 1 / 3) / 2)
    with pytest.raises(ValueError, match="discrete"):
        ProductKDE([[0.5]], "c", level_prior_weights=[1.0])
    with pytest.raises(ValueError, match="level_prior_weights"):
        ProductKDE([[0]], "u", num_levels=[2], level_prior_weights=[-1.0])


def test_no_inactive_entries_and_zero_weights_change_nothing():
    rng = np.random.default_rng(3)
    data = np.column_stack([rng.random(30), rng.integers(3, size=30), rng.random(30)])
    plain = ProductKDE(data, "cuc", num_levels=[0, 3, 0])
    named = ProductKDE(data, "cuc", num_levels=[0, 3, 0], inactive_columns=[1, 2], level_prior_weights=[0, 0, 0])
    query = np.column_stack([rng.random(50), rng.integers(3, size=50), rng.random(50)])
    assert np.array_equal(plain.bandwidths, named.bandwidths)
    assert np.allclose(plain.logpdf(query), named.logpdf(query), rtol=1e-12, atol=1e-12)
    draws = [kde.sample(40, np.random.default_rng(4), 3.0) for kde in (plain, named)]
    assert np.array_equal(draws[0], draws[1])
