"""Bracket arithmetic against hand-computed tables (the numbers are written out, not recomputed)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bandster.optimizers.brackets import (
    bracket_index,
    bracket_sizes,
    budget_ladder,
    hyperband_iteration,
    num_budgets,
    random_search_num_configs,
    validate_budgets,
)

# (min_budget, max_budget, eta) -> (S, ladder, ns of iterations 0..S-1), all computed by hand:
# n0 = floor(S/(s+1)) * eta**s, ns[j] = max(floor(n0 / eta**j), 1), s = S-1, S-2, ..., 0.
TABLES = {
    (9, 243, 3): (4, [9.0, 27.0, 81.0, 243.0], [[27, 9, 3, 1], [9, 3, 1], [6, 2], [4]]),
    (1, 81, 3): (
        5,
        [1.0, 3.0, 9.0, 27.0, 81.0],
        [[81, 27, 9, 3, 1], [27, 9, 3, 1], [9, 3, 1], [6, 2], [5]],
    ),
    (1, 9, 3): (3, [1.0, 3.0, 9.0], [[9, 3, 1], [3, 1], [3]]),
    (1, 16, 2): (
        5,
        [1.0, 2.0, 4.0, 8.0, 16.0],
        [[16, 8, 4, 2, 1], [8, 4, 2, 1], [4, 2, 1], [4, 2], [5]],
    ),
    (1, 729, 3): (
        7,
        [1.0, 3.0, 9.0, 27.0, 81.0, 243.0, 729.0],
        [
            [729, 243, 81, 27, 9, 3, 1],  # s=6: floor(7/7)=1 * 3**6
            [243, 81, 27, 9, 3, 1],  # s=5: floor(7/6)=1 * 3**5
            [81, 27, 9, 3, 1],  # s=4: floor(7/5)=1 * 3**4
            [27, 9, 3, 1],  # s=3: floor(7/4)=1 * 3**3
            [18, 6, 2],  # s=2: floor(7/3)=2 * 3**2
            [9, 3],  # s=1: floor(7/2)=3 * 3
            [7],  # s=0: floor(7/1)=7
        ],
    ),
    (0.01, 1, 3): (
        5,
        [1 / 81, 1 / 27, 1 / 9, 1 / 3, 1.0],
        [[81, 27, 9, 3, 1], [27, 9, 3, 1], [9, 3, 1], [6, 2], [5]],
    ),
    (1, 243, 3): (
        6,
        [1.0, 3.0, 9.0, 27.0, 81.0, 243.0],
        [[243, 81, 27, 9, 3, 1], [81, 27, 9, 3, 1], [27, 9, 3, 1], [18, 6, 2], [9, 3], [6]],
    ),
    (1, 1000, 10): (4, [1.0, 10.0, 100.0, 1000.0], [[1000, 100, 10, 1], [100, 10, 1], [20, 2], [4]]),
    (1, 125, 5): (4, [1.0, 5.0, 25.0, 125.0], [[125, 25, 5, 1], [25, 5, 1], [10, 2], [4]]),
    (4, 4, 3): (1, [4.0], [[1]]),
}


@pytest.mark.parametrize("args", list(TABLES))
def test_num_budgets_matches_table(args):
    assert num_budgets(*args) == TABLES[args][0]


@pytest.mark.parametrize("args", list(TABLES))
def test_budget_ladder_matches_table(args):
    ladder = budget_ladder(*args)
    expected = TABLES[args][1]
    assert len(ladder) == len(expected)
    assert all(type(b) is float for b in ladder)
    assert ladder == pytest.approx(expected, rel=1e-12)
    assert ladder[-1] == float(args[1])  # anchored exactly at max_budget


@pytest.mark.parametrize("args", list(TABLES))
def test_iterations_match_table_and_cycle(args):
    S, ladder, table = TABLES[args]
    for iteration in range(2 * S + 1):  # two full cycles and one more
        ns, budgets = hyperband_iteration(iteration, *args)
        expected_ns = table[iteration % S]
        assert ns == expected_ns
        assert all(type(n) is int for n in ns)
        assert budgets == pytest.approx(ladder[-len(expected_ns) :], rel=1e-12)
        assert budgets[-1] == float(args[1])


def test_integer_ratio_ladders_are_exact():
    assert budget_ladder(1, 243, 3) == [1.0, 3.0, 9.0, 27.0, 81.0, 243.0]
    assert budget_ladder(1, 1000, 10) == [1.0, 10.0, 100.0, 1000.0]
    assert budget_ladder(9, 243, 3) == [9.0, 27.0, 81.0, 243.0]
    assert budget_ladder(1, 16, 2) == [1.0, 2.0, 4.0, 8.0, 16.0]
    assert budget_ladder(1, 243, 3)[0] == 1.0  # HpBandSter lost this rung


def test_floating_point_trap_cases():
    # log(1/243)/log(3) is -4.999999999999999 and log(1/1000)/log(10) is -2.9999999999999996 in floats
    assert math.log(1 / 243) / math.log(3) != -5.0
    assert num_budgets(1, 243, 3) == 6
    assert num_budgets(1, 1000, 10) == 4
    assert num_budgets(1, 125, 5) == 4
    assert num_budgets(0.01, 1, 3) == 5  # a real fractional log ratio is still floored


def test_ladder_rounds_smallest_budget_up_when_ratio_is_not_a_power():
    ladder = budget_ladder(0.01, 1, 3)
    assert ladder[0] > 0.01
    assert ladder[0] == pytest.approx(1 / 81, rel=1e-15)


def test_min_equals_max_is_one_bracket_of_one():
    assert num_budgets(2.5, 2.5, 3) == 1
    assert budget_ladder(2.5, 2.5, 3) == [2.5]
    for iteration in range(3):
        assert hyperband_iteration(iteration, 2.5, 2.5, 3) == ([1], [2.5])


def test_numpy_inputs_give_builtins():
    ns, budgets = hyperband_iteration(np.int64(0), np.float64(9), np.int64(243), np.int64(3))
    assert ns == [27, 9, 3, 1]
    assert budgets == [9.0, 27.0, 81.0, 243.0]
    assert all(type(b) is float for b in budgets)
    assert bracket_sizes(2, 3.0, 4) == [9, 3, 1]  # eta given as a float


def test_bracket_index_cycles_from_most_aggressive():
    assert [bracket_index(i, 4) for i in range(9)] == [3, 2, 1, 0, 3, 2, 1, 0, 3]
    assert [bracket_index(i, 1) for i in range(3)] == [0, 0, 0]


def test_bracket_sizes_hand_values():
    assert bracket_sizes(3, 3, 4) == [27, 9, 3, 1]
    assert bracket_sizes(1, 3, 4) == [6, 2]
    assert bracket_sizes(0, 3, 4) == [4]
    assert bracket_sizes(1, 2, 5) == [4, 2]
    assert bracket_sizes(0, 2, 5) == [5]


def test_bracket_sizes_non_integer_eta():
    # S=6 for (1, 100, 2.5): s=5 -> n0 = 1 * 2.5**5 = 97.65625 -> 97; 97/2.5 = 38.8 -> 38; 15.52 -> 15;
    # 6.208 -> 6; 2.48 -> 2; 0.99 -> 1 (floor 0, then max(.,1))
    assert bracket_sizes(5, 2.5, 6) == [97, 38, 15, 6, 2, 1]
    # s=1: n0 = floor(6/2)=3 * 2.5 = 7.5 -> 7; 7/2.5 = 2.8 -> 2
    assert bracket_sizes(1, 2.5, 6) == [7, 2]
    # exact products must not lose one to float error: eta=1.5, s=2, S=3 -> n0 = 2.25 -> 2; 2/1.5 -> 1
    assert bracket_sizes(2, 1.5, 3) == [2, 1, 1]
    # float error must not lose a config: eta=1.6, s=2, S=75 -> n0 = floor(75/3)=25 * 2.56 = 64 exactly;
    # 64 / 1.6 = 40; 64 / 2.56 = 25 exactly, but the float quotient is 24.999999999999996
    assert int(64 * 1.6**-2) == 24
    assert bracket_sizes(2, 1.6, 75) == [64, 40, 25]


@pytest.mark.parametrize(
    ("s", "S"),
    [(-1, 4), (4, 4), (1.5, 4), (0, 0)],
)
def test_bracket_sizes_rejects_bad_brackets(s, S):
    with pytest.raises(ValueError):
        bracket_sizes(s, 3, S)


def test_bracket_index_rejects_negative_iteration():
    with pytest.raises(ValueError, match="iteration"):
        bracket_index(-1, 4)
    with pytest.raises(ValueError, match="S must"):
        bracket_index(0, 0)


def test_random_search_num_configs():
    assert random_search_num_configs(1, 9, 3) == 3  # (9 + 3*3 + 1*9) // 9
    assert random_search_num_configs(9, 243, 3) == 4  # 972 // 243
    assert random_search_num_configs(1, 1, 3) == 1
    assert random_search_num_configs(0.01, 1, 3) == 5
    assert random_search_num_configs(1, 243, 3) == 6  # not 5: no rung and no config lost
    assert random_search_num_configs(1, 1000, 10) == 4


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((0, 9, 3), "min_budget must be > 0"),
        ((-1, 9, 3), "min_budget must be > 0"),
        ((10, 9, 3), "larger than max_budget"),
        ((1, 9, 1), "eta must be > 1"),
        ((1, 9, 0.5), "eta must be > 1"),
        ((1, 9, -3), "eta must be > 1"),
        (("1", 9, 3), "min_budget must be a real number"),
        ((1, None, 3), "max_budget must be a real number"),
        ((1, 9, "3"), "eta must be a real number"),
        ((1, 9, True), "eta must be a real number"),
        ((float("nan"), 9, 3), "min_budget must be finite"),
        ((1, float("inf"), 3), "max_budget must be finite"),
        ((1, 9, float("inf")), "eta must be finite"),
    ],
)
def test_validation_errors_name_problem_and_fix(args, match):
    with pytest.raises(ValueError, match=match) as excinfo:
        validate_budgets(*args)
    assert len(str(excinfo.value)) > 30  # a message with the fix, not just the name
    with pytest.raises(ValueError, match=match):
        num_budgets(*args)
    with pytest.raises(ValueError, match=match):
        hyperband_iteration(0, *args)
    with pytest.raises(ValueError, match=match):
        random_search_num_configs(*args)


def test_validate_accepts_good_values():
    assert validate_budgets(0.01, 1, 3) is None
    assert validate_budgets(5, 5, 1.5) is None
