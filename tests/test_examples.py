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
    assert "A total of 46 unique configurations were sampled." in out
    assert "A total of 65 runs were executed." in out
    assert "Best found configuration: {'x':" in out


@pytest.mark.timeout(150)
def test_example_2_local_parallel_threads(tmp_path):
    out = run_example("example_2_local_parallel_threads.py", "--n_workers", "3", "--n_iterations", "2",
                      "--min_budget", "9", "--max_budget", "243", "--sleep_interval", "0.01", cwd=tmp_path)
    assert "A total of 53 runs were executed." in out  # 40 + 13


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
        assert "A total of 17 runs were executed." in out
        for w in workers:
            w.wait(timeout=30)
            assert w.returncode == 0, w.stdout.read()
    finally:
        for p in [master, *workers]:
            if p.poll() is None:
                p.kill()
            p.wait()
            p.stdout.close()


@pytest.mark.timeout(150)
def test_example_stopped_before_any_incumbent_says_so(tmp_path):
    """Issue 11, item 7: Ctrl-C before a run on the largest budget finished: no ``KeyError: None``, a sentence."""
    import glob
    import signal

    proc = subprocess.Popen([sys.executable, os.path.join(EXAMPLES, "example_2_local_parallel_threads.py"),
                             "--n_workers", "1", "--sleep_interval", "0.5"], cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 100

        def results_written():
            return any(os.path.getsize(p) for p in glob.glob(str(tmp_path / "bandster_runs" / "*" / "results.json")))

        while not results_written():  # one run on the smallest budget has finished
            assert time.monotonic() < deadline and proc.poll() is None, "the example did not start"
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=100)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        proc.stdout.close()
    assert proc.returncode == 0, out
    assert "KeyError" not in out and "Traceback" not in out
    assert "No incumbent: no run on the largest budget (243) finished with a finite loss" in out
    assert "runs were executed." in out


def _burn_cpu():
    """A CPU-bound process per core: the start-up races of item 1 of issue 11 showed under load."""
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(os.cpu_count() or 2)]


@pytest.mark.timeout(240)
@pytest.mark.parametrize("order", ["workers_first", "master_first"])
def test_example_3_in_any_order_on_a_loaded_machine(tmp_path, order):
    """Example 3 as its docstring says: workers and master started in either order, with no wait in between,
    while every core is busy. Workers started first wait for the name server and say so."""
    port = _free_port()
    script = os.path.join(EXAMPLES, "example_3_local_parallel_processes.py")
    common = ["--port", str(port), "--run_id", f"ex3o_{os.getpid()}", "--min_budget", "27", "--max_budget", "243",
              "--n_iterations", "2"]

    def start(*extra):
        return subprocess.Popen([sys.executable, script, *common, *extra], cwd=tmp_path, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)

    burners = _burn_cpu()
    procs = []
    try:
        if order == "workers_first":
            procs += [start("--worker") for _ in range(2)]
            # the first worker says what it waits for (a warning after a few seconds) before the master exists
            line = procs[0].stdout.readline()
            assert f"for the name server at 127.0.0.1:{port}" in line, line
            procs.insert(0, start("--n_workers", "2"))
        else:
            procs += [start("--n_workers", "2")] + [start("--worker") for _ in range(2)]
        master, workers = procs[0], procs[1:]
        out, _ = master.communicate(timeout=200)
        assert master.returncode == 0, out
        assert "A total of 17 runs were executed." in out
        for w in workers:
            rest, _ = w.communicate(timeout=60)
            assert w.returncode == 0, rest
            assert "cannot reach" not in rest
    finally:
        for p in burners + procs:
            if p.poll() is None:
                p.kill()
            p.wait()
            if p.stdout:
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


@pytest.mark.timeout(150)
def test_example_6_pbt_prints_the_schedule_and_draws_it(tmp_path):
    out = run_example("example_6_pbt.py", "--population", "4", "--epochs", "6", "--interval", "2", cwd=tmp_path)
    n_runs = int(out.split("A total of ", 1)[1].split(" runs", 1)[0])
    assert 6 <= n_runs <= 24  # 4 members x 3 intervals; an exploit can jump a member ahead or back
    schedule = out.split("Its learning-rate schedule (epochs: eta0):\n", 1)[1].split("Its lineage:", 1)[0]
    rows = [line.split(":")[0].split("-") for line in schedule.strip().splitlines()]
    assert float(rows[0][0]) == 0 and float(rows[-1][1]) == 6  # the schedule covers all epochs
    assert all(float(a[1]) == float(b[0]) for a, b in zip(rows, rows[1:], strict=False))  # contiguous
    assert (tmp_path / "pbt_schedule.png").stat().st_size > 10_000
