"""Hyperband bracket arithmetic: the budget ladder, the bracket schedule and the bracket sizes.

These are HpBandSter's formulas (not the Hyperband paper's ``ceil``), computed so that floating-point
error can never drop a rung of the ladder or a configuration from a bracket:

* ``S = num_budgets(min_budget, max_budget, eta)`` is ``1 + floor(log_eta(max_budget / min_budget))``,
  where a logarithm within a relative ``1e-9`` of an integer counts as that integer. HpBandSter truncated
  the raw float, so ``(1, 243, 3)`` lost its smallest budget.
* ``budgets[k] = max_budget / eta ** (S - 1 - k)``: the ladder is anchored at ``max_budget``.
* Iteration ``i`` runs bracket ``s = S - 1 - (i mod S)`` with ``n0 = floor(S / (s + 1)) * eta ** s``
  configurations and ``ns[j] = max(floor(n0 / eta ** j), 1)`` in stage ``j``.

Examples
--------
>>> budget_ladder(9, 243, 3)
[9.0, 27.0, 81.0, 243.0]
>>> [hyperband_iteration(i, 9, 243, 3)[0] for i in range(4)]
[[27, 9, 3, 1], [9, 3, 1], [6, 2], [4]]
"""

from __future__ import annotations

import logging
import math
import numbers

logger = logging.getLogger(__name__)

#: Relative tolerance under which a float counts as the integer next to it.
_REL_TOL = 1e-9


__all__ = [
    "validate_budgets",
    "num_budgets",
    "budget_ladder",
    "bracket_index",
    "bracket_sizes",
    "hyperband_iteration",
    "random_search_num_configs",
]


def _floor_tol(x: float) -> int:
    """Return ``floor(x)``, treating values within a relative ``1e-9`` of an integer as that integer."""
    nearest = round(x)
    if abs(x - nearest) <= _REL_TOL * max(1.0, abs(x)):
        return int(nearest)
    return math.floor(x)


def _integral_eta(eta: float) -> int | None:
    """``eta`` as an int when it is a whole number (``3``, ``3.0``, ``np.int64(3)``), else None."""
    value = float(eta)
    return int(value) if value.is_integer() else None


def _check_real(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(
            f"{name} must be a real number, got {value!r} of type {type(value).__name__}; "
            f"pass a finite float such as {name}=1.0"
        )
    as_float = float(value)
    if not math.isfinite(as_float):
        raise ValueError(f"{name} must be finite, got {value!r}; pass a finite positive number")
    return as_float


def validate_budgets(min_budget: float, max_budget: float, eta: float) -> None:
    """Check the Hyperband parameters and raise ``ValueError`` naming the problem and the fix.

    Parameters
    ----------
    min_budget, max_budget : float
        The smallest and the largest budget; ``0 < min_budget <= max_budget``.
    eta : float
        The reduction factor between successive stages; ``eta > 1``.

    Raises
    ------
    ValueError
        For non-numeric or non-finite values, ``min_budget <= 0``, ``min_budget > max_budget`` or
        ``eta <= 1``.
    """
    lo = _check_real("min_budget", min_budget)
    hi = _check_real("max_budget", max_budget)
    factor = _check_real("eta", eta)
    if lo <= 0:
        raise ValueError(
            f"min_budget must be > 0, got {min_budget!r}; budgets are divided by eta, so use a small "
            "positive value (e.g. min_budget=0.01) instead"
        )
    if lo > hi:
        raise ValueError(
            f"min_budget ({min_budget!r}) is larger than max_budget ({max_budget!r}); swap them, or set "
            "min_budget == max_budget for a single budget (plain random search / BO)"
        )
    if factor <= 1:
        raise ValueError(
            f"eta must be > 1, got {eta!r}; eta is the factor by which each stage cuts the number of "
            "configurations and raises the budget (eta=3 is the usual choice)"
        )


def num_budgets(min_budget: float, max_budget: float, eta: float) -> int:
    """Return ``S`` (HpBandSter's ``max_SH_iter``), the number of rungs of the budget ladder.

    ``S = 1 + floor(log(max_budget / min_budget) / log(eta))``, where a logarithm within a small relative
    tolerance of an integer counts as that integer, so ``(1, 243, 3)`` gives 6 and ``(1, 1000, 10)``
    gives 4 (HpBandSter's truncation gave 5 and 3).

    Parameters
    ----------
    min_budget, max_budget : float
        ``0 < min_budget <= max_budget``.
    eta : float
        ``eta > 1``.

    Returns
    -------
    int
        At least 1 (``min_budget == max_budget`` gives 1).

    Examples
    --------
    >>> num_budgets(1, 243, 3), num_budgets(0.01, 1, 3), num_budgets(5, 5, 3)
    (6, 5, 1)
    """
    validate_budgets(min_budget, max_budget, eta)
    ratio = float(max_budget) / float(min_budget)
    x = math.log(ratio) / math.log(float(eta))
    return max(_floor_tol(x), 0) + 1


def budget_ladder(min_budget: float, max_budget: float, eta: float) -> list[float]:
    """Return the budgets ``max_budget / eta ** (S - 1 - k)`` for ``k = 0 .. S - 1`` as builtin floats.

    The ladder is anchored at ``max_budget``: when ``max_budget / min_budget`` is not a power of ``eta``
    the smallest budget lies above ``min_budget``. Each rung is a single correctly rounded division, so
    ``(1, 243, 3)`` gives exactly ``[1.0, 3.0, 9.0, 27.0, 81.0, 243.0]``.

    Examples
    --------
    >>> budget_ladder(1, 16, 2)
    [1.0, 2.0, 4.0, 8.0, 16.0]
    """
    s_max = num_budgets(min_budget, max_budget, eta)
    top = float(max_budget)
    int_eta = _integral_eta(eta)
    base: float | int = int_eta if int_eta is not None else float(eta)
    return [float(top / base ** (s_max - 1 - k)) for k in range(s_max)]


def bracket_index(iteration: int, S: int) -> int:  # noqa: N803 - the usual name of the ladder length
    """Return the bracket ``s = S - 1 - (iteration mod S)`` run by Hyperband iteration ``iteration``.

    Iteration 0 runs the most aggressive bracket ``s = S - 1``; the brackets then cycle down to 0.

    Raises
    ------
    ValueError
        If ``iteration < 0`` or ``S < 1``.
    """
    if int(S) != S or S < 1:
        raise ValueError(f"S must be an integer >= 1, got {S!r}; compute it with num_budgets()")
    if int(iteration) != iteration or iteration < 0:
        raise ValueError(f"iteration must be an integer >= 0, got {iteration!r}")
    return int(S) - 1 - (int(iteration) % int(S))


def bracket_sizes(s: int, eta: float, S: int) -> list[int]:  # noqa: N803
    """Return the number of configurations in each stage of bracket ``s``.

    ``n0 = floor(S / (s + 1)) * eta ** s`` and ``ns[j] = max(floor(n0 / eta ** j), 1)`` for
    ``j = 0 .. s``. Integral ``eta`` is handled in exact integer arithmetic; otherwise the floors use a
    small relative tolerance, so a value a hair below an integer is not rounded down.

    Parameters
    ----------
    s : int
        The bracket, ``0 <= s < S``.
    eta : float
        ``eta > 1``.
    S : int
        The length of the budget ladder (:func:`num_budgets`).

    Returns
    -------
    list of int
        ``s + 1`` stage sizes, non-increasing, each at least 1.

    Examples
    --------
    >>> bracket_sizes(4, 3, 5), bracket_sizes(1, 3, 5), bracket_sizes(0, 3, 5)
    ([81, 27, 9, 3, 1], [6, 2], [5])
    """
    if int(S) != S or S < 1:
        raise ValueError(f"S must be an integer >= 1, got {S!r}; compute it with num_budgets()")
    if int(s) != s or not 0 <= s < S:
        raise ValueError(f"bracket s must be an integer with 0 <= s < S={S}, got {s!r}")
    factor = _check_real("eta", eta)
    if factor <= 1:
        raise ValueError(f"eta must be > 1, got {eta!r}")
    s, S = int(s), int(S)  # noqa: N806
    repeats = S // (s + 1)
    int_eta = _integral_eta(eta)
    if int_eta is not None:
        n0 = repeats * int_eta**s
        return [max(n0 // int_eta**j, 1) for j in range(s + 1)]
    n0 = _floor_tol(repeats * factor**s)
    return [max(_floor_tol(n0 / factor**j), 1) for j in range(s + 1)]


def hyperband_iteration(
    iteration: int, min_budget: float, max_budget: float, eta: float
) -> tuple[list[int], list[float]]:
    """Return ``(ns, budgets)`` for Hyperband iteration ``iteration``.

    Parameters
    ----------
    iteration : int
        The global iteration index, ``>= 0``.
    min_budget, max_budget, eta : float
        As for :func:`validate_budgets`.

    Returns
    -------
    ns : list of int
        The number of configurations per stage.
    budgets : list of float
        The budget of each stage, the last ``len(ns)`` rungs of :func:`budget_ladder`.

    Examples
    --------
    >>> hyperband_iteration(1, 1, 9, 3)
    ([3, 1], [3.0, 9.0])
    """
    ladder = budget_ladder(min_budget, max_budget, eta)
    s_max = len(ladder)
    s = bracket_index(iteration, s_max)
    return bracket_sizes(s, eta, s_max), ladder[-(s + 1) :]


def random_search_num_configs(min_budget: float, max_budget: float, eta: float) -> int:
    """Return how many configurations HpBandSter's RandomSearch evaluates per iteration at ``max_budget``.

    HpBandSter used ``sum_i budgets[::-1][i] * eta ** i // max_budget``. Every term of the sum is
    ``max_budget`` in exact arithmetic, so the count is exactly ``S`` (:func:`num_budgets`): one bracket's
    worth of budget spent at the largest budget. Returning ``S`` directly means float error can never
    lose a configuration.

    Examples
    --------
    >>> random_search_num_configs(1, 9, 3), random_search_num_configs(9, 243, 3)
    (3, 4)
    """
    return max(num_budgets(min_budget, max_budget, eta), 1)
