"""A real optimization (HyperBand over two thread workers; each worker's first job fails) whose results go to the
trackers under test."""

from __future__ import annotations

import itertools
import os

import pytest
from analysis_helpers import make_run

from bandster.core.result import logged_results_to_HBS_result
from bandster.optimizers import HyperBand

_ids = itertools.count()


@pytest.fixture
def optimize(tmp_path, no_thread_leak):
    """``optimize(callbacks) -> Result``: one HyperBand iteration (13 runs on budgets 1, 3, 9, some failed)."""

    def run(callbacks):
        directory = make_run(HyperBand, str(tmp_path / "run"), f"trk{os.getpid()}_{next(_ids)}", n_iterations=1,
                             result_callbacks=list(callbacks))
        return logged_results_to_HBS_result(directory)

    return run
