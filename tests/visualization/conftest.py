"""Shared fixtures of the figure tests: real runs (BOHB with failures, and Hyperband, which has no model), a small
hand-made Result whose figures' data is known exactly, and a guard that no figure shows itself unasked."""

from __future__ import annotations

import itertools
import os

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from analysis_helpers import known_result, make_run  # noqa: E402

from bandster.core.result import logged_results_to_HBS_result  # noqa: E402
from bandster.optimizers import BOHB, HyperBand  # noqa: E402

_ids = itertools.count()


@pytest.fixture(scope="session")
def bohb_result(tmp_path_factory):
    directory = make_run(BOHB, str(tmp_path_factory.mktemp("bohb")), f"vis{os.getpid()}_{next(_ids)}",
                         n_iterations=4, min_points_in_model=4)
    return logged_results_to_HBS_result(directory)


@pytest.fixture(scope="session")
def hb_result(tmp_path_factory):
    directory = make_run(HyperBand, str(tmp_path_factory.mktemp("hb")), f"vis{os.getpid()}_{next(_ids)}",
                         n_iterations=2)
    return logged_results_to_HBS_result(directory)


@pytest.fixture(scope="session")
def known():
    return known_result()


@pytest.fixture
def shows(monkeypatch):
    calls = []
    monkeypatch.setattr(plt, "show", lambda *a, **k: calls.append(1))
    return calls
