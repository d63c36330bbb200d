"""`make demo`: installs only what the demo needs, and its --seed reproduces a one-worker run (issue 11, item 11)."""

import os
import re
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEMO = os.path.join(ROOT, "examples", "demo.py")

# packages of the optional extras (plots, docs, examples, test): the demo must run without any of them
OPTIONAL = ["matplotlib", "pandas", "sphinx", "numpydoc", "myst_parser", "sklearn", "pytest", "hypothesis",
            "nbclient", "nbformat", "ipykernel"]
BLOCKER = f"""
import runpy, sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in {OPTIONAL!r}:
            raise ImportError('the demo imported ' + name + ', which only an extra installs')
sys.meta_path.insert(0, Block())
sys.argv = [{DEMO!r}] + sys.argv[1:]
runpy.run_path({DEMO!r}, run_name='__main__')
"""


@pytest.mark.skipif(shutil.which("make") is None, reason="no make")
def test_make_demo_installs_bandster_without_extras(tmp_path):
    venv = str(tmp_path / "venv")  # does not exist: make -n shows what a fresh machine would run
    demo = subprocess.run(["make", "-n", "-C", ROOT, "demo", f"VENV={venv}"], capture_output=True, text=True,
                          check=True).stdout
    assert re.search(r"pip install --quiet -e \.\s*$", demo, re.MULTILINE), demo
    assert "[test]" not in demo and "examples/demo.py" in demo
    test = subprocess.run(["make", "-n", "-C", ROOT, "test", f"VENV={venv}"], capture_output=True, text=True,
                          check=True).stdout
    assert "pip install --quiet -e '.[test]'" in test


def run_demo(tmp_path, name, *args):
    env = dict(os.environ, PYTHONPATH=ROOT)
    out = subprocess.run([sys.executable, "-c", BLOCKER, "--n_iterations", "4", "--working_directory",
                          str(tmp_path / name), *args], capture_output=True, text=True, timeout=240, env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


@pytest.mark.timeout(300)
def test_demo_needs_no_extra_and_its_seed_reproduces_a_one_worker_run(tmp_path):
    first = run_demo(tmp_path, "a", "--n_workers", "1", "--seed", "3")
    second = run_demo(tmp_path, "b", "--n_workers", "1", "--seed", "3")
    other = run_demo(tmp_path, "c", "--n_workers", "1", "--seed", "4")

    def numbers(text):  # the counts, the incumbent and its losses: the first two lines, without the elapsed time
        return [re.sub(r"in [0-9.]+ s", "in _ s", line) for line in text.splitlines()[:2]]

    assert numbers(first) == numbers(second)
    assert numbers(first) != numbers(other)
    assert "what the numbers mean" in first and "below the global minimum 0.3979 is noise" in first
    assert "bandster status " in first and "bandster report " in first
