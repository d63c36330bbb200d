"""The simulation benchmark runs end to end on a tiny case (its figures are in docs/benchmarks.md, not here)."""

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
    assert "PASHA/ASHA steps" in out and "max_configs=9, 2 seeds" in out


def test_dashboard_benchmark_on_a_small_journal(tmp_path):
    """benchmarks/dashboard.py end to end on 300 runs: the update reads exactly the appended bytes."""
    script = os.path.join(HERE, os.pardir, "benchmarks", "dashboard.py")
    out = subprocess.run([sys.executable, script, "--runs", "300", "--append", "7", "--keep", str(tmp_path / "j")],
                         check=True, capture_output=True, text=True, timeout=300,
                         env=dict(os.environ, PYTHONPATH=os.path.join(HERE, os.pardir))).stdout
    assert "first page:" in out and "complete first state:" in out and "figures:" in out, out
    update = next(line for line in out.splitlines() if line.startswith("update after 7 appended runs"))
    read = int(update.split(" read ")[1].split(" bytes")[0])
    appended = int(update.split("(appended: ")[1].split(" bytes")[0])
    assert read == appended and ", 7 new rows," in update, out
