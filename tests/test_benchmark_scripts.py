"""The simulation benchmark runs end to end on a tiny case (its figures are in docs/benchmarks.md, not here)."""

import json
import math
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, os.pardir, "benchmarks", "async_simulation.py")


def test_async_simulation_prints_a_row_per_optimizer():
    out = subprocess.run(
        [sys.executable, SCRIPT, "--seeds", "2", "--iterations", "2", "--async_iterations", "2",
         "--problems", "hartmann6", "--optimizers", "ASHA,AsyncBOHB,HyperBand"],
        check=True, capture_output=True, text=True, timeout=300,
    ).stdout
    rows = {line.split("|")[1].strip() for line in out.splitlines() if line.startswith("| ") and "---" not in line}
    assert {"BOHB", "ASHA", "AsyncBOHB", "HyperBand"} <= rows, out
    assert "HyperBand's mean final regret" in out


def test_stopping_benchmark_prints_every_method_and_the_pasha_comparison():
    script = os.path.join(HERE, os.pardir, "benchmarks", "stopping.py")
    out = subprocess.run(
        [sys.executable, script, "--seeds", "2", "--problems", "hartmann6", "--steps", "300", "--max_configs", "9",
         "--workers", "4"],
        check=True, capture_output=True, text=True, timeout=300,
    ).stdout
    for name in ("ASHA_stopping", "AsyncBOHB_stopping", "MedianStopping", "PASHA", "ASHA", "BOHB"):
        assert f"  {name} " in out, out
    assert "PASHA/ASHA steps" in out and "max_configs=9, 2 seeds, protocol complete" in out
    assert "Spearman rank correlation between neighbouring rungs" in out and "steps  27 ->  81" in out
    assert "PASHA's rises (of 2 seeds; means)" in out, out
    out = subprocess.run(
        [sys.executable, script, "--seeds", "2", "--problems", "hartmann6", "--max_configs", "9", "--workers", "4",
         "--skip", "equal,ranks", "--protocol", "trials_started"],
        check=True, capture_output=True, text=True, timeout=300,
    ).stdout
    assert "max_configs=9, 2 seeds, protocol trials_started" in out and "largest budget reached" in out, out
    assert "Spearman" not in out and "regret at" not in out, out


def test_dashboard_benchmark_on_a_small_journal(tmp_path):
    """benchmarks/dashboard.py end to end on 300 runs: the update reads exactly the appended bytes."""
    script = os.path.join(HERE, os.pardir, "benchmarks", "dashboard.py")
    out = subprocess.run([sys.executable, script, "--runs", "300", "--append", "7", "--keep", str(tmp_path / "j")],
                         check=True, capture_output=True, text=True, timeout=300,
                         env=dict(os.environ, PYTHONPATH=os.path.join(HERE, os.pardir))).stdout
    for label in ("page:", "first data:", "complete state:", "every panel:", "table filtered", "CSV of the rows"):
        assert label in out, out
    update = next(line for line in out.splitlines() if line.startswith("update after 7 appended runs"))
    read = int(update.split(" read ")[1].split(" bytes")[0])
    appended = int(update.split("(appended: ")[1].split(" bytes")[0])
    assert read == appended, out


PEERS = os.path.join(HERE, os.pardir, "benchmarks", "peers.py")


def test_peers_runs_bandster_and_skips_peers_without_their_environment(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("BANDSTER_PEERS_PYTHON", "BANDSTER_HPBANDSTER_PYTHON")}
    out = tmp_path / "peers.json"
    proc = subprocess.run(
        [sys.executable, PEERS, "--seeds", "1", "--iterations", "1", "--problems", "branin",
         "--systems", "bandster-BOHB,HpBandSter-BOHB,DEHB,Optuna-TPE+HB", "--raw-dir", str(tmp_path / "raw"),
         "--out", str(out), "--hpbandster-python", str(tmp_path / "no-such-python")],
        check=True, capture_output=True, text=True, timeout=300, env=env,
    )
    text = proc.stdout
    assert f"skipped HpBandSter-BOHB: {tmp_path / 'no-such-python'} does not exist" in text, text
    assert "skipped DEHB: no interpreter for its environment (pass --peers-python PATH" in text, text
    assert "skipped Optuna-TPE+HB" in text, text
    rows = [line.split("|") for line in text.splitlines() if line.startswith("| bandster-BOHB |")]
    assert len(rows) == 1 and rows[0][2].strip() == "1", text  # one seed
    summary = json.loads(out.read_text())
    regret = summary["results"]["branin"]["bandster-BOHB"]["0"]
    raw = json.loads((tmp_path / "raw" / "bandster-BOHB__branin__0-0.json").read_text())["seeds"]["0"]["runs"]
    top = max(budget for budget, *_ in raw)  # the harness's incumbent: best loss on the highest budget
    incumbent = min((r for r in raw if r[0] == top), key=lambda r: r[1])[2]
    x1, x2 = incumbent["x1"], incumbent["x2"]
    branin = (x2 - 5.1 / (4 * math.pi**2) * x1**2 + 5 / math.pi * x1 - 6) ** 2
    branin += 10 * (1 - 1 / (8 * math.pi)) * math.cos(x1) + 10
    assert math.isclose(regret["final"], branin - 0.397887357729738, abs_tol=1e-9)
    assert regret["half"] >= 0
    assert regret["runs"] > 0 and summary["versions"]["bandster-BOHB"].startswith("bandster at commit")
    assert set(summary["results"]["branin"]) == {"bandster-BOHB"}


BENCHMARKS = os.path.join(HERE, os.pardir, "benchmarks")


def _problems():
    sys.path.insert(0, BENCHMARKS)
    try:
        import problems
    finally:
        sys.path.remove(BENCHMARKS)
    return problems


def test_sgd_curves_grid_is_the_space_and_a_curve_is_real_training():
    problems = _problems()
    grid = problems.sgd_grid()
    keys = [problems._sgd_key(c) for c in grid]
    assert len(grid) == len(set(keys)) == 2550
    space = problems.PROBLEMS["sgd_curves"].make_space(0)
    assert {problems._sgd_key(dict(c)) for c in space.sample_configuration(300)} <= set(keys)
    curve = problems.sgd_curve({"loss": "log_loss", "penalty": "l2", "log10_alpha": -4, "learning_rate": "adaptive",
                                "log10_eta0": -2, "average": "no"}, epochs=3)
    assert curve.shape == (3,) and all(0 < e < 0.5 for e in curve), curve


def test_stopping_benchmark_runs_the_sgd_curves_problem_from_its_cached_table(tmp_path):
    """A stand-in table in the cache (computing the real one takes minutes): the script reads it and reports."""
    problems = _problems()
    import numpy as np
    import sklearn

    grid = problems.sgd_grid()
    rng = np.random.default_rng(0)
    curves = np.sort(rng.uniform(0.02, 0.5, size=(len(grid), problems.SGD_CURVE_EPOCHS)), axis=1)[:, ::-1]
    np.savez(tmp_path / f"sgd_curves-{sklearn.__version__}.npz",
             keys=np.asarray([problems._sgd_key(c) for c in grid]), curves=curves)
    out = subprocess.run(
        [sys.executable, os.path.join(BENCHMARKS, "stopping.py"), "--seeds", "1", "--problems", "sgd_curves",
         "--steps", "300", "--max_configs", "9", "--workers", "4", "--methods", "ASHA_stopping,PASHA"],
        check=True, capture_output=True, text=True, timeout=300,
        env=dict(os.environ, BANDSTER_BENCH_CACHE=str(tmp_path)),
    ).stdout
    assert f"optimum (best 27-epoch validation error of the grid) {curves[:, -1].min():.4f}" in out, out
    assert "sgd_curves: regret at 100 consumed steps" in out and "  PASHA " in out, out
    assert "sgd_curves: max_configs=9, 1 seeds" in out, out
