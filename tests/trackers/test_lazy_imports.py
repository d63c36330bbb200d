"""The optional packages are imported only when used: importing bandster, its callbacks and its figures pulls in
neither tensorboardX, MLflow, scikit-learn nor matplotlib; a tracker imports its package on the first result."""

import subprocess
import sys

SCRIPT = r"""
import sys
import bandster, bandster.callbacks, bandster.visualization, bandster.analysis.importance
from bandster.callbacks import MLflowCallback, TensorBoardCallback
TensorBoardCallback("tb"), MLflowCallback("sqlite:///unused.db")  # constructing checks, imports nothing
heavy = [m for m in ("tensorboardX", "tensorboard", "mlflow", "sklearn", "matplotlib") if m in sys.modules]
assert not heavy, heavy
print("ok")
"""


def test_optional_packages_are_imported_only_when_used(tmp_path):
    proc = subprocess.run([sys.executable, "-c", SCRIPT], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr
    assert not (tmp_path / "tb").exists() and not (tmp_path / "unused.db").exists()
