"""The ported HpBandSter examples run to completion with their original flags."""

import os
import subprocess
import sys
import time

import pytest

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")


def run_example(name, *args, cwd, timeout=120):
    out = subprocess.run([sys.executable, os.path.join(EXAMPLES, name), *args], cwd=cwd, capture_output=True,
                         text=True, timeout=timeout)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


@pytest.mark.timeout(150)
def test_example_1_local_sequential(tmp_path):
    out = run_example("example_1_local_sequential.py", "--min_budget", "9", "--max_budget", "243",
                      "--n_iterations", "4", cwd=tmp_path)
    # (9, 243, 3), 4 iterations: 27+9+3+1 + 9+3+1 + 6+2 + 4 runs on 27+9+6+4 configurations
    assert "A total of 46 unique configurations where sampled." in out
    assert "A total of 65 runs where executed." in out
    assert "Best found configuration: {'x':" in out


@pytest.mark.timeout(150)
def test_example_2_local_parallel_threads(tmp_path):
    out = run_example("example_2_local_parallel_threads.py", "--n_workers", "3", "--n_iterations", "2",
                      "--min_budget", "9", "--max_budget", "243", "--sleep_interval", "0.01", cwd=tmp_path)
    assert "A total of 53 runs where executed." in out  # 40 + 13


@pytest.mark.timeout(150)
def test_example_3_local_parallel_processes(tmp_path):
    port = _free_port()
    common = ["--port", str(port), "--run_id", f"ex3_{os.getpid()}", "--min_budget", "27", "--max_budget", "243",
              "--n_iterations", "2"]
    master = subprocess.Popen([sys.executable, os.path.join(EXAMPLES, "example_3_local_parallel_processes.py"),
                               *common, "--n_workers", "2"], cwd=tmp_path, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    workers = []
    try:
        _wait_for_port(port)
        workers = [subprocess.Popen([sys.executable, os.path.join(EXAMPLES, "example_3_local_parallel_processes.py"),
                                     *common, "--worker"], cwd=tmp_path, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True) for _ in range(2)]
        out, _ = master.communicate(timeout=120)
        assert master.returncode == 0, out
        # (27, 243, 3): brackets s=2 (9,3,1) and s=1 (3,1): 17 runs
        assert "A total of 17 runs where executed." in out
        for w in workers:
            w.wait(timeout=30)
            assert w.returncode == 0, w.stdout.read()
    finally:
        for p in [master, *workers]:
            if p.poll() is None:
                p.kill()
            p.wait()
            p.stdout.close()


def _free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port, timeout=60):
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on port {port}")
