import os
import subprocess
import sys

import bandster


def test_version_from_console_script():
    exe = os.path.join(os.path.dirname(sys.executable), "bandster")
    cmd = [exe, "--version"] if os.path.exists(exe) else [sys.executable, "-m", "bandster", "--version"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    assert out.stdout.strip() == f"bandster {bandster.__version__}"
