"""Multi-fidelity test problems for ``benchmarks/quality.py``.

Each :class:`Problem` has a config space, a budget ladder (``min_budget``, ``max_budget``, ``eta``), a noisy
multi-fidelity objective ``evaluate(config, budget, seed)`` and the exact objective ``true_loss(config)``
(the noise-free value at ``max_budget``) against which regret is measured.

``evaluate`` is deterministic given (config, budget, seed): its noise comes from a
``numpy.random.default_rng`` seeded with a hash of the three (:func:`rng_for`), never from a global RNG.

* ``counting_ones`` (BOHB paper, Falkner et al. 2018, section 5.1): 8 binary categorical and 8 continuous
  hyperparameters in [0, 1]; budget b in 9..729; loss = -(sum of the categorical values + sum over the
  continuous x_i of the mean of b Bernoulli(x_i) draws). The exact loss is -(sum cat + sum x); optimum -16.
* ``hartmann6``: the multi-fidelity Hartmann-6 of BOCA (Kandasamy et al. 2017, as in HPOlib2): with fidelity
  z = log(b / b_min) / log(b_max / b_min) in [0, 1], the weights are alpha - 0.1 (1 - z) (a bias that
  vanishes at the largest budget), plus Gaussian noise with standard deviation 0.05 (1 - z). Budget 9..729;
  optimum -3.32237.
* ``branin``: BOCA's multi-fidelity Branin (b - 0.01 (1 - z), c - 0.1 (1 - z), t + 0.05 (1 - z)) on x1 in
  [-5, 10], x2 in [0, 15], plus Gaussian noise with standard deviation 0.5 (1 - z); budget 9..729; optimum
  0.397887 (three global minima).
* ``cond_branin``: a categorical ``branch`` chooses among three sub-spaces whose hyperparameters are
  conditional on it. ``a``: Branin on (a_x1, a_x2), global optimum 0.397887. ``b``: Branin + 1 + 0.25 b_k on
  (b_x1, b_x2, integer b_k in 0..4), optimum 1.397887. ``c``: 0.9 + 10 (c_x - 0.3)^2, optimum 0.9, an easy
  decoy. Branches ``a`` and ``b`` use BOCA's multi-fidelity Branin (b - 0.01 (1 - z), c - 0.1 (1 - z),
  t + 0.05 (1 - z)); every branch adds Gaussian noise with standard deviation 0.5 (1 - z). Budget 9..729.
* ``sgd_digits``: scikit-learn's ``SGDClassifier`` on the bundled ``load_digits`` (1,797 8x8 images; a fixed
  split of 1,000 training and 797 validation images, standardised); budget = epochs, 1..27. Nine
  hyperparameters: loss, penalty, alpha (log), l1_ratio (only for elasticnet), learning_rate, eta0 (log,
  not for "optimal"), power_t (only for invscaling), average, fit_intercept. Loss = validation error. Training
  uses ``random_state=0`` whatever the seed, so the loss is a deterministic function of (config, budget) and
  ``true_loss`` is the error after 27 epochs. Its optimum is unknown: ``optimum`` is None and quality.py
  measures regret against the best 27-epoch error seen in all runs of all optimizers.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import ConfigSpace as CS
import numpy as np


def _canonical(config: dict) -> list:
    """``config`` as sorted ``[name, value]`` pairs of builtins (numpy scalars unwrapped), for hashing."""
    return sorted((k, v.item() if isinstance(v, np.generic) else v) for k, v in config.items())


def rng_for(config: dict, budget: float, seed: int) -> np.random.Generator:
    """A generator seeded from a stable hash of ``(config, budget, seed)`` (not Python's salted ``hash``)."""
    key = json.dumps([_canonical(config), float(budget), int(seed)])
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return np.random.default_rng(int.from_bytes(digest, "little"))


def fidelity(budget: float, min_budget: float, max_budget: float) -> float:
    """``log(budget / min_budget) / log(max_budget / min_budget)``, clipped to [0, 1]."""
    return float(min(max(math.log(budget / min_budget) / math.log(max_budget / min_budget), 0.0), 1.0))


@dataclass
class Problem:
    name: str
    make_space: Callable[[int], CS.ConfigurationSpace]
    evaluate: Callable[[dict, float, int], float]
    true_loss: Callable[[dict], float]
    optimum: float | None
    min_budget: float
    max_budget: float
    eta: float = 3
    description: str = ""


# --- counting ones -----------------------------------------------------------------------------------------

N_CAT = N_CONT = 8


def _counting_ones_space(seed: int) -> CS.ConfigurationSpace:
    cs = CS.ConfigurationSpace(seed=seed)
    cs.add([CS.CategoricalHyperparameter(f"cat{i}", [0, 1]) for i in range(N_CAT)])
    cs.add([CS.UniformFloatHyperparameter(f"x{i}", 0.0, 1.0) for i in range(N_CONT)])
    return cs


def _counting_ones_evaluate(config: dict, budget: float, seed: int) -> float:
    rng = rng_for(config, budget, seed)
    n = int(round(budget))
    cats = sum(int(config[f"cat{i}"]) for i in range(N_CAT))
    p = np.array([config[f"x{i}"] for i in range(N_CONT)], dtype=float)
    means = rng.binomial(n, p) / n  # the mean of n Bernoulli(p_i) draws, for each i
    return -(cats + float(means.sum()))


def _counting_ones_true(config: dict) -> float:
    return -(sum(int(config[f"cat{i}"]) for i in range(N_CAT)) + sum(config[f"x{i}"] for i in range(N_CONT)))


# --- Hartmann 6 --------------------------------------------------------------------------------------------

H6_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])
H6_A = np.array(
    [
        [10.0, 3.0, 17.0, 3.5, 1.7, 8.0],
        [0.05, 10.0, 17.0, 0.1, 8.0, 14.0],
        [3.0, 3.5, 1.7, 10.0, 17.0, 8.0],
        [17.0, 8.0, 0.05, 10.0, 0.1, 14.0],
    ]
)
H6_P = 1e-4 * np.array(
    [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381],
    ]
)
H6_OPTIMUM = -3.32237
H6_BUDGETS = (9.0, 729.0)


def hartmann6(x: np.ndarray, z: float = 1.0) -> float:
    """Hartmann-6 at fidelity ``z`` (BOCA's bias: alpha - 0.1 (1 - z)); ``z = 1`` is the usual function."""
    alpha = H6_ALPHA - 0.1 * (1.0 - z)
    inner = np.sum(H6_A * (x[None, :] - H6_P) ** 2, axis=1)
    return float(-np.sum(alpha * np.exp(-inner)))


def _hartmann_space(seed: int) -> CS.ConfigurationSpace:
    cs = CS.ConfigurationSpace(seed=seed)
    cs.add([CS.UniformFloatHyperparameter(f"x{i}", 0.0, 1.0) for i in range(6)])
    return cs


def _hartmann_x(config: dict) -> np.ndarray:
    return np.array([config[f"x{i}"] for i in range(6)], dtype=float)


def _hartmann_evaluate(config: dict, budget: float, seed: int) -> float:
    z = fidelity(budget, *H6_BUDGETS)
    noise = rng_for(config, budget, seed).normal(0.0, 0.05 * (1.0 - z)) if z < 1 else 0.0
    return hartmann6(_hartmann_x(config), z) + noise


def _hartmann_true(config: dict) -> float:
    return hartmann6(_hartmann_x(config), 1.0)


# --- conditional Branin ------------------------------------------------------------------------------------

BRANIN_OPTIMUM = 0.397887357729738
BR_BUDGETS = (9.0, 729.0)


def branin(x1: float, x2: float, z: float = 1.0) -> float:
    """Branin at fidelity ``z`` (BOCA's multi-fidelity Branin); ``z = 1`` is the usual function."""
    b = 5.1 / (4 * math.pi**2) - 0.01 * (1.0 - z)
    c = 5 / math.pi - 0.1 * (1.0 - z)
    t = 1 / (8 * math.pi) + 0.05 * (1.0 - z)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


def _plain_branin_space(seed: int) -> CS.ConfigurationSpace:
    cs = CS.ConfigurationSpace(seed=seed)
    cs.add([CS.UniformFloatHyperparameter("x1", -5.0, 10.0), CS.UniformFloatHyperparameter("x2", 0.0, 15.0)])
    return cs


def _plain_branin_evaluate(config: dict, budget: float, seed: int) -> float:
    z = fidelity(budget, *BR_BUDGETS)
    noise = rng_for(config, budget, seed).normal(0.0, 0.5 * (1.0 - z)) if z < 1 else 0.0
    return branin(config["x1"], config["x2"], z) + noise


def _plain_branin_true(config: dict) -> float:
    return branin(config["x1"], config["x2"], 1.0)


def _branin_space(seed: int) -> CS.ConfigurationSpace:
    cs = CS.ConfigurationSpace(seed=seed)
    branch = CS.CategoricalHyperparameter("branch", ["a", "b", "c"])
    a1, a2 = CS.UniformFloatHyperparameter("a_x1", -5.0, 10.0), CS.UniformFloatHyperparameter("a_x2", 0.0, 15.0)
    b1, b2 = CS.UniformFloatHyperparameter("b_x1", -5.0, 10.0), CS.UniformFloatHyperparameter("b_x2", 0.0, 15.0)
    bk = CS.UniformIntegerHyperparameter("b_k", 0, 4)
    cx = CS.UniformFloatHyperparameter("c_x", 0.0, 1.0)
    cs.add([branch, a1, a2, b1, b2, bk, cx])
    cs.add([CS.EqualsCondition(a1, branch, "a"), CS.EqualsCondition(a2, branch, "a")])
    cs.add([CS.EqualsCondition(h, branch, "b") for h in (b1, b2, bk)])
    cs.add(CS.EqualsCondition(cx, branch, "c"))
    return cs


def _branin_value(config: dict, z: float) -> float:
    branch = config["branch"]
    if branch == "a":
        return branin(config["a_x1"], config["a_x2"], z)
    if branch == "b":
        return branin(config["b_x1"], config["b_x2"], z) + 1.0 + 0.25 * int(config["b_k"])
    return 0.9 + 10.0 * (config["c_x"] - 0.3) ** 2


def _branin_evaluate(config: dict, budget: float, seed: int) -> float:
    z = fidelity(budget, *BR_BUDGETS)
    noise = rng_for(config, budget, seed).normal(0.0, 0.5 * (1.0 - z)) if z < 1 else 0.0
    return _branin_value(config, z) + noise


def _branin_true(config: dict) -> float:
    return _branin_value(config, 1.0)


# --- SGDClassifier on digits --------------------------------------------------------------------------------

SGD_BUDGETS = (1.0, 27.0)
_digits: tuple | None = None
_digits_lock = threading.Lock()
_sgd_cache: dict[str, float] = {}


def _digits_split() -> tuple:
    global _digits
    with _digits_lock:
        if _digits is None:
            from sklearn.datasets import load_digits
            from sklearn.preprocessing import StandardScaler

            X, y = load_digits(return_X_y=True)
            order = np.random.default_rng(0).permutation(len(y))
            X, y = X[order], y[order]
            scaler = StandardScaler().fit(X[:1000])
            _digits = (scaler.transform(X[:1000]), y[:1000], scaler.transform(X[1000:]), y[1000:])
    return _digits


def _sgd_space(seed: int) -> CS.ConfigurationSpace:
    cs = CS.ConfigurationSpace(seed=seed)
    loss = CS.CategoricalHyperparameter("loss", ["hinge", "log_loss", "modified_huber"])
    penalty = CS.CategoricalHyperparameter("penalty", ["l2", "l1", "elasticnet"])
    alpha = CS.UniformFloatHyperparameter("alpha", 1e-7, 1e-1, log=True)
    l1_ratio = CS.UniformFloatHyperparameter("l1_ratio", 0.0, 1.0)
    lr = CS.CategoricalHyperparameter("learning_rate", ["optimal", "constant", "invscaling", "adaptive"])
    eta0 = CS.UniformFloatHyperparameter("eta0", 1e-5, 1.0, log=True)
    power_t = CS.UniformFloatHyperparameter("power_t", 0.05, 1.0)
    average = CS.CategoricalHyperparameter("average", ["no", "yes"])
    intercept = CS.CategoricalHyperparameter("fit_intercept", ["yes", "no"])
    cs.add([loss, penalty, alpha, l1_ratio, lr, eta0, power_t, average, intercept])
    cs.add(
        [
            CS.EqualsCondition(l1_ratio, penalty, "elasticnet"),
            CS.InCondition(eta0, lr, ["constant", "invscaling", "adaptive"]),
            CS.EqualsCondition(power_t, lr, "invscaling"),
        ]
    )
    return cs


def _sgd_evaluate(config: dict, budget: float, seed: int) -> float:
    """Validation error after ``round(budget)`` epochs; ``seed`` is unused (training uses random_state=0)."""
    key = json.dumps([_canonical(config), float(budget)])
    if key in _sgd_cache:
        return _sgd_cache[key]
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import SGDClassifier

    Xtr, ytr, Xva, yva = _digits_split()
    kwargs: dict[str, Any] = dict(
        loss=config["loss"],
        penalty=config["penalty"],
        alpha=config["alpha"],
        learning_rate=config["learning_rate"],
        average=config["average"] == "yes",
        fit_intercept=config["fit_intercept"] == "yes",
        max_iter=int(round(budget)),
        tol=None,
        random_state=0,
    )
    if "l1_ratio" in config:
        kwargs["l1_ratio"] = config["l1_ratio"]
    if "eta0" in config:
        kwargs["eta0"] = config["eta0"]
    if "power_t" in config:
        kwargs["power_t"] = config["power_t"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", RuntimeWarning)  # overflow for huge learning rates: counted as error
        model = SGDClassifier(**kwargs)
        try:
            model.fit(Xtr, ytr)
            error = float(1.0 - model.score(Xva, yva))
        except (ValueError, FloatingPointError):
            error = 1.0
    if not math.isfinite(error):
        error = 1.0
    _sgd_cache[key] = error
    return error


def _sgd_true(config: dict) -> float:
    return _sgd_evaluate(config, SGD_BUDGETS[1], 0)


PROBLEMS: dict[str, Problem] = {
    p.name: p
    for p in (
        Problem(
            "counting_ones",
            _counting_ones_space,
            _counting_ones_evaluate,
            _counting_ones_true,
            -16.0,
            9,
            729,
            description="8 binary + 8 continuous, loss from budget Bernoulli draws, budgets 9..729",
        ),
        Problem(
            "hartmann6",
            _hartmann_space,
            _hartmann_evaluate,
            _hartmann_true,
            H6_OPTIMUM,
            *H6_BUDGETS,
            description="BOCA multi-fidelity Hartmann-6: bias 0.1(1-z) on alpha, noise sd 0.05(1-z), budgets 9..729",
        ),
        Problem(
            "branin",
            _plain_branin_space,
            _plain_branin_evaluate,
            _plain_branin_true,
            BRANIN_OPTIMUM,
            *BR_BUDGETS,
            description="BOCA multi-fidelity Branin on (x1, x2), noise sd 0.5(1-z), budgets 9..729",
        ),
        Problem(
            "cond_branin",
            _branin_space,
            _branin_evaluate,
            _branin_true,
            BRANIN_OPTIMUM,
            *BR_BUDGETS,
            description="categorical branch -> conditional children (Branin / shifted Branin / decoy), 9..729",
        ),
        Problem(
            "sgd_digits",
            _sgd_space,
            _sgd_evaluate,
            _sgd_true,
            None,
            *SGD_BUDGETS,
            description="SGDClassifier on load_digits, budget = epochs 1..27, loss = validation error",
        ),
    )
}


# --- SGDClassifier on digits, per-epoch learning curves (tabular) --------------------------------------------

#: epochs of every curve of the ``sgd_curves`` problem
SGD_CURVE_EPOCHS = 27
#: the grid of ``sgd_curves``: every configuration of :func:`_sgd_curves_space`
_SGD_GRID = dict(
    loss=("hinge", "log_loss", "modified_huber"),
    penalty=("l2", "l1", "elasticnet"),
    l1_ratio=(0.15, 0.5, 0.85),
    log10_alpha=(-6, -5, -4, -3, -2),
    learning_rate=("optimal", "constant", "invscaling", "adaptive"),
    log10_eta0=(-4, -3, -2, -1),
    power_t=(0.25, 0.5),
    average=("no", "yes"),
)
_sgd_table: dict[str, np.ndarray] | None = None
_sgd_table_lock = threading.Lock()


def _sgd_curves_space(seed: int) -> CS.ConfigurationSpace:
    g = _SGD_GRID
    cs = CS.ConfigurationSpace(seed=seed)
    loss = CS.CategoricalHyperparameter("loss", list(g["loss"]))
    penalty = CS.CategoricalHyperparameter("penalty", list(g["penalty"]))
    l1_ratio = CS.CategoricalHyperparameter("l1_ratio", list(g["l1_ratio"]))
    alpha = CS.UniformIntegerHyperparameter("log10_alpha", g["log10_alpha"][0], g["log10_alpha"][-1])
    lr = CS.CategoricalHyperparameter("learning_rate", list(g["learning_rate"]))
    eta0 = CS.UniformIntegerHyperparameter("log10_eta0", g["log10_eta0"][0], g["log10_eta0"][-1])
    power_t = CS.CategoricalHyperparameter("power_t", list(g["power_t"]))
    average = CS.CategoricalHyperparameter("average", list(g["average"]))
    cs.add([loss, penalty, l1_ratio, alpha, lr, eta0, power_t, average])
    cs.add(
        [
            CS.EqualsCondition(l1_ratio, penalty, "elasticnet"),
            CS.InCondition(eta0, lr, ["constant", "invscaling", "adaptive"]),
            CS.EqualsCondition(power_t, lr, "invscaling"),
        ]
    )
    return cs


def sgd_grid() -> list[dict]:
    """Every configuration of the ``sgd_curves`` space (only active hyperparameters), in a fixed order."""
    g = _SGD_GRID
    configs = []
    for loss in g["loss"]:
        for penalty in g["penalty"]:
            for l1 in g["l1_ratio"] if penalty == "elasticnet" else (None,):
                for alpha in g["log10_alpha"]:
                    for lr in g["learning_rate"]:
                        for eta0 in g["log10_eta0"] if lr != "optimal" else (None,):
                            for power_t in g["power_t"] if lr == "invscaling" else (None,):
                                for average in g["average"]:
                                    c = dict(loss=loss, penalty=penalty, l1_ratio=l1, log10_alpha=alpha,
                                             learning_rate=lr, log10_eta0=eta0, power_t=power_t, average=average)
                                    configs.append({k: v for k, v in c.items() if v is not None})
    return configs


def _sgd_key(config: dict) -> str:
    names = ("loss", "penalty", "l1_ratio", "log10_alpha", "learning_rate", "log10_eta0", "power_t", "average")
    return json.dumps([_canonical({k: config[k] for k in names if k in config})])


def sgd_curve(config: dict, epochs: int = SGD_CURVE_EPOCHS) -> np.ndarray:
    """Validation errors after each of ``epochs`` epochs of one training run (``partial_fit``, one epoch a call).

    Real training: scikit-learn's ``SGDClassifier`` (``random_state=0``, ``fit_intercept=True``, ``tol=None``) on
    the standardised digits split of ``sgd_digits``; ``alpha = 10 ** log10_alpha``, ``eta0 = 10 ** log10_eta0``
    (0.01, unused, for "optimal"). A diverged model (non-finite coefficients) has error 1 from then on.
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import SGDClassifier

    Xtr, ytr, Xva, yva = _digits_split()
    kwargs: dict[str, Any] = dict(
        loss=config["loss"], penalty=config["penalty"], alpha=10.0 ** config["log10_alpha"],
        learning_rate=config["learning_rate"], eta0=10.0 ** config.get("log10_eta0", -2),
        average=config["average"] == "yes", random_state=0, tol=None,
    )
    if "l1_ratio" in config:
        kwargs["l1_ratio"] = config["l1_ratio"]
    if "power_t" in config:
        kwargs["power_t"] = config["power_t"]
    model = SGDClassifier(**kwargs)
    classes = np.unique(ytr)
    curve = np.ones(epochs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        for epoch in range(epochs):
            try:
                model.partial_fit(Xtr, ytr, classes=classes)
                if not np.all(np.isfinite(model.coef_)):
                    break
                curve[epoch] = 1.0 - model.score(Xva, yva)
            except (ValueError, FloatingPointError):
                break
    return curve


def _sgd_curves_job(config: dict) -> list[float]:
    return sgd_curve(config).tolist()


def sgd_table(cache_dir: str | None = None, processes: int = 1) -> dict[str, np.ndarray]:
    """``{key: curve}`` for every configuration of :func:`sgd_grid`, computed once and cached on disk.

    The cache is ``sgd_curves-<scikit-learn version>.npz`` in ``cache_dir`` (default: ``$BANDSTER_BENCH_CACHE`` or
    ``~/.cache/bandster-benchmarks``); computing it trains all 2,550 configurations for 27 epochs (about 10 minutes
    on one core).
    """
    global _sgd_table
    with _sgd_table_lock:
        if _sgd_table is not None:
            return _sgd_table
        import logging
        import os

        import sklearn

        cache_dir = cache_dir or os.environ.get("BANDSTER_BENCH_CACHE") or os.path.join(
            os.path.expanduser("~"), ".cache", "bandster-benchmarks")
        path = os.path.join(cache_dir, f"sgd_curves-{sklearn.__version__}.npz")
        grid = sgd_grid()
        keys = [_sgd_key(c) for c in grid]
        if os.path.exists(path):
            data = np.load(path)
            if list(data["keys"]) == keys:
                _sgd_table = dict(zip(keys, data["curves"], strict=True))
                return _sgd_table
        logging.getLogger(__name__).warning("computing the learning curves of %d SGD configurations into %s "
                                            "(once; about 10 minutes per process)", len(grid), path)
        if processes > 1:
            import multiprocessing

            with multiprocessing.get_context("spawn").Pool(processes) as pool:
                curves = pool.map(_sgd_curves_job, grid, chunksize=16)
        else:
            curves = [_sgd_curves_job(c) for c in grid]
        array = np.asarray(curves, dtype=float)
        os.makedirs(cache_dir, exist_ok=True)
        tmp = path + f".{os.getpid()}.tmp.npz"
        np.savez(tmp, keys=np.asarray(keys), curves=array)
        os.replace(tmp, path)
        _sgd_table = dict(zip(keys, array, strict=True))
        return _sgd_table


def sgd_curves_value(config: dict, epoch: float) -> float:
    """The validation error of ``config`` after ``round(epoch)`` epochs (1..27), from :func:`sgd_table`."""
    return float(sgd_table()[_sgd_key(config)][int(round(epoch)) - 1])


def _sgd_curves_evaluate(config: dict, budget: float, seed: int) -> float:
    return sgd_curves_value(config, budget)


def _sgd_curves_true(config: dict) -> float:
    return sgd_curves_value(config, SGD_CURVE_EPOCHS)


PROBLEMS["sgd_curves"] = Problem(
    "sgd_curves",
    _sgd_curves_space,
    _sgd_curves_evaluate,
    _sgd_curves_true,
    None,  # set from the table by sgd_curves_optimum()
    1.0,
    float(SGD_CURVE_EPOCHS),
    description="SGDClassifier on load_digits, real per-epoch learning curves of a 2,550-configuration grid, "
    "epochs 1..27, loss = validation error",
)


def sgd_curves_optimum() -> float:
    """The lowest 27-epoch validation error of the grid (the ``sgd_curves`` problem's optimum); sets it."""
    best = float(min(curve[-1] for curve in sgd_table().values()))
    PROBLEMS["sgd_curves"].optimum = best
    return best


def curve_form(problem: Problem) -> tuple[int, float]:
    """``(steps, budget per step)`` of ``problem`` as a learning curve (``benchmarks/stopping.py``): step ``s``
    reports ``evaluate(config, s * budget per step, seed)``. The synthetic problems: 81 steps of ``min_budget``
    (9, so step 81 is budget 729); ``sgd_curves``: 27 steps of one epoch."""
    if problem.name == "sgd_curves":
        return SGD_CURVE_EPOCHS, 1.0
    return int(round(problem.max_budget / problem.min_budget)), problem.min_budget


if __name__ == "__main__":  # python benchmarks/problems.py --sgd-table [processes]: build the cache
    import sys

    if sys.argv[1:2] == ["--sgd-table"]:
        n = int(sys.argv[2]) if len(sys.argv) > 2 else 1
        table = sgd_table(processes=n)
        print(len(table), "curves; optimum (27 epochs):", sgd_curves_optimum())
