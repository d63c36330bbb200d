"""Example 4 across "hosts": Linux network namespaces joined by veth links, and the job-array scripts.

The namespace test needs root and iproute2 (it skips, saying why, where namespaces cannot be created). Its
three namespaces only have the 10.x links it creates, so the workers can reach the master only over them; each
process has its own HOME and XDG_RUNTIME_DIR, so only the shared directory can carry the name server's secret.
"""

import collections
import itertools
import os
import pickle
import shutil
import signal
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE_4 = os.path.join(ROOT, "examples", "example_4_cluster.py")
SGE_SCRIPT = os.path.join(ROOT, "scripts", "sge", "example_4.sh")
SLURM_SCRIPT = os.path.join(ROOT, "scripts", "slurm", "example_4.sbatch")
_ids = itertools.count()

# min_budget 1, max_budget 9, eta 3, 3 iterations: (iteration, budget) -> runs, by hand from HpBandSter's formula
# n0 = floor(S / (s + 1)) * eta**s with S = 3 budgets: s=2: 9, 3, 1 on 1, 3, 9; s=1: 3, 1 on 3, 9; s=0: 3 on 9.
TABLE = {(0, 1.0): 9, (0, 3.0): 3, (0, 9.0): 1, (1, 3.0): 3, (1, 9.0): 1, (2, 9.0): 3}
BUDGETS = ["--min_budget", "1", "--max_budget", "9", "--n_iterations", "3", "--sleep_interval", "0.1"]


def _ip(*args, check=True):
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check, timeout=30)


def _pid_of(worker_name):
    return int(worker_name.split(".")[-2])  # bandster.run_<id>.worker.<host>.<pid>.<id>


def _private_env(tmp_path, name):
    """An environment with its own HOME and runtime directory: no per-user secret file is shared."""
    home, runtime = tmp_path / f"home_{name}", tmp_path / f"run_{name}"
    home.mkdir()
    runtime.mkdir(mode=0o700)
    env = {k: v for k, v in os.environ.items() if not k.startswith("BANDSTER_")}
    env.update(HOME=str(home), XDG_RUNTIME_DIR=str(runtime), XDG_CACHE_HOME=str(home / ".cache"),
               PYTHONUNBUFFERED="1")
    return env


def _check_counts(result):
    runs = result.get_all_runs()
    counts = collections.Counter((r.config_id[0], r.budget) for r in runs)
    assert dict(counts) == TABLE
    assert all(r.loss is not None and r.error_logs is None for r in runs)
    return runs


@pytest.fixture
def hosts():
    """Three namespaces a, b, c: a-b on 10.77.1.0/24, a-c on 10.77.2.0/24, each link's end called eth0 in b, c."""
    if shutil.which("ip") is None:
        pytest.skip("multi-host test: the `ip` command (iproute2) is not installed")
    tag = f"bst{os.getpid()}{next(_ids)}"
    names = {k: f"{tag}{k}" for k in "abc"}
    created = []
    try:
        try:
            _ip("netns", "add", names["a"])
        except (subprocess.CalledProcessError, OSError) as exc:
            reason = exc.stderr.strip() if isinstance(exc, subprocess.CalledProcessError) else exc
            pytest.skip(f"multi-host test: cannot create network namespaces here (needs root/CAP_SYS_ADMIN): {reason}")
        created.append(names["a"])
        for k in "bc":
            _ip("netns", "add", names[k])
            created.append(names[k])
        a, b, c = names["a"], names["b"], names["c"]
        _ip("link", "add", "eth0", "netns", a, "type", "veth", "peer", "name", "eth0", "netns", b)
        _ip("link", "add", "eth1", "netns", a, "type", "veth", "peer", "name", "eth0", "netns", c)
        for ns, dev, addr in [(a, "eth0", "10.77.1.1/24"), (a, "eth1", "10.77.2.1/24"), (b, "eth0", "10.77.1.2/24"),
                              (c, "eth0", "10.77.2.2/24")]:
            _ip("-n", ns, "addr", "add", addr, "dev", dev)
            _ip("-n", ns, "link", "set", dev, "up")
        for ns in (a, b, c):
            _ip("-n", ns, "link", "set", "lo", "up")
        # c reaches the master's address 10.77.1.1 through a's other end (a delivers it locally)
        _ip("-n", c, "route", "add", "10.77.1.0/24", "via", "10.77.2.1")
        _ip("-n", b, "route", "add", "10.77.2.0/24", "via", "10.77.1.1")
        yield names
    finally:
        for ns in created:
            pids = _ip("netns", "pids", ns, check=False).stdout.split()
            for pid in pids:  # anything still running in a namespace this test created
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
            _ip("netns", "del", ns, check=False)


@pytest.mark.timeout(240)
def test_example_4_across_network_namespaces(hosts, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    run_id = f"mh{os.getpid()}"
    common = [EXAMPLE_4, "--run_id", run_id, "--shared_directory", str(shared), *BUDGETS]
    procs = {}
    try:
        # workers first: they wait for the master's credentials file
        for k in "bc":
            procs[k] = subprocess.Popen(["ip", "netns", "exec", hosts[k], sys.executable, *common, "--nic_name", "eth0",
                                         "--worker", "--max_wait", "120"],
                                        env=_private_env(tmp_path, k), stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True)
        procs["a"] = subprocess.Popen(["ip", "netns", "exec", hosts["a"], sys.executable, *common, "--nic_name", "eth0",
                                       "--n_workers", "3"],
                                      env=_private_env(tmp_path, "a"), stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True)
        outputs = {}
        for k in "abc":
            outputs[k], _ = procs[k].communicate(timeout=200)
            assert procs[k].returncode == 0, f"{k}:\n{outputs[k]}"
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
            proc.wait()
    assert "A total of 20 runs were executed." in outputs["a"]
    with open(shared / "results.pkl", "rb") as fh:
        result = pickle.load(fh)
    runs = _check_counts(result)
    pids = {_pid_of(r.worker_name) for r in runs}
    assert {procs["b"].pid, procs["c"].pid} <= pids  # both remote workers computed
    assert procs["a"].pid in pids  # and the master's own worker thread
    assert not any(p.name.endswith(".credentials.json") for p in shared.iterdir())  # removed at shutdown


def _run_array(script, n_tasks, task_env, tmp_path):
    """Run the tasks of a job-array script on this machine, as the scheduler would (loopback instead of eth0)."""
    env = dict(os.environ, NIC="lo", PYTHON=sys.executable, EXAMPLE=EXAMPLE_4, MIN_BUDGET="1", MAX_BUDGET="9",
               N_ITERATIONS="3")
    env = {k: v for k, v in env.items() if not k.startswith("BANDSTER_")}
    procs = []
    try:
        for task in range(1, n_tasks + 1):
            procs.append(subprocess.Popen(["bash", script], cwd=tmp_path, env=dict(env, **task_env(task)),
                                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
        outputs = [p.communicate(timeout=150)[0] for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait()
    for p, out in zip(procs, outputs, strict=True):
        assert p.returncode == 0, out
    return outputs


def test_scripts_are_valid_bash():
    for script in (SGE_SCRIPT, SLURM_SCRIPT):
        out = subprocess.run(["bash", "-n", script], capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stderr
        text = open(script).read()
        for flag in ("--run_id", "--nic_name", "--shared_directory", "--worker", "--n_workers", "--min_budget",
                     "--max_budget", "--n_iterations"):
            assert flag in text, (script, flag)
    assert "#$ -t 1-4" in open(SGE_SCRIPT).read() and "#SBATCH --array=1-4" in open(SLURM_SCRIPT).read()


@pytest.mark.timeout(200)
def test_sge_array_script_runs_example_4(tmp_path):
    outputs = _run_array(SGE_SCRIPT, 3, lambda t: {"JOB_ID": "4242", "SGE_TASK_ID": str(t), "SGE_TASK_FIRST": "1",
                                                   "SGE_TASK_LAST": "3", "SGE_TASK_STEPSIZE": "1"}, tmp_path)
    assert "A total of 20 runs were executed." in outputs[0] and "Workers that computed: 3" in outputs[0]
    with open(tmp_path / "example4_runs" / "example4_4242" / "results.pkl", "rb") as fh:
        _check_counts(pickle.load(fh))


@pytest.mark.timeout(200)
def test_slurm_array_script_runs_example_4(tmp_path):
    outputs = _run_array(SLURM_SCRIPT, 2, lambda t: {"SLURM_ARRAY_JOB_ID": "77", "SLURM_ARRAY_TASK_ID": str(t),
                                                     "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_COUNT": "2",
                                                     "SLURM_SUBMIT_DIR": str(tmp_path)}, tmp_path)
    assert "A total of 20 runs were executed." in outputs[0] and "Workers that computed: 2" in outputs[0]
    with open(tmp_path / "example4_runs" / "example4_77" / "results.pkl", "rb") as fh:
        _check_counts(pickle.load(fh))


@pytest.mark.timeout(200)
def test_example_5_promoted_configs_resume_from_checkpoints(tmp_path):
    pytest.importorskip("sklearn", reason="example 5 trains a scikit-learn model (pip install scikit-learn)")
    example = os.path.join(ROOT, "examples", "example_5_checkpoints.py")
    common = [example, "--run_id", f"ex5_{os.getpid()}", "--shared_directory", str(tmp_path / "run"),
              "--min_budget", "1", "--max_budget", "9", "--n_iterations", "2"]
    env = _private_env(tmp_path, "ex5")
    procs = [subprocess.Popen([sys.executable, *common, *extra], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True) for extra in (["--worker"], ["--n_workers", "2"])]
    try:
        outputs = [p.communicate(timeout=150)[0] for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait()
    assert [p.returncode for p in procs] == [0, 0], outputs
    out = outputs[1]
    # (1, 9, 3), 2 iterations: 9 + 3 + 1 and 3 + 1 runs; 3 + 1 + 1 of them continue a configuration
    assert "A total of 17 runs were executed." in out
    assert "5 of 5 promoted runs resumed from a checkpoint." in out
    # from scratch: 9*1 + 3*3 + 9 + 3*3 + 9 = 45 epochs; resuming: 9 + 3*2 + 6 + 3*3 + 6 = 36
    assert "Epochs trained: 36 instead of 45 without checkpoints." in out
    assert "Worker processes: 2" in out


@pytest.mark.timeout(240)
def test_dask_cluster_across_network_namespaces(hosts, tmp_path):
    """`dask scheduler` in namespace a (10.77.1.1), one `dask worker` in b and one in c (each on its own 10.x
    address), the master in a reaching the scheduler through its scheduler file: HyperBand's exact runs, computed
    on both remote hosts."""
    pytest.importorskip("distributed", reason="the Dask test needs the dask extra (pip install 'bandster[dask]')")
    helpers = os.path.join(ROOT, "tests", "helpers")
    scheduler_file = str(tmp_path / "scheduler.json")
    python_path = os.pathsep.join([helpers, ROOT])
    procs, logs = {}, {}

    def start(name, host, *args):
        logs[name] = open(tmp_path / f"{name}.log", "w")
        env = dict(_private_env(tmp_path, name), PYTHONPATH=python_path)
        procs[name] = subprocess.Popen(["ip", "netns", "exec", host, sys.executable, *args], env=env,
                                       stdout=logs[name], stderr=subprocess.STDOUT, cwd=tmp_path)

    def log(name):
        logs[name].flush()
        return (tmp_path / f"{name}.log").read_text()

    try:
        start("scheduler", hosts["a"], "-m", "distributed.cli.dask_scheduler", "--scheduler-file", scheduler_file,
              "--host", "10.77.1.1", "--port", "0", "--no-dashboard")
        for k, address in (("b", "10.77.1.2"), ("c", "10.77.2.2")):
            start(f"worker_{k}", hosts[k], "-m", "distributed.cli.dask_worker", "--scheduler-file", scheduler_file,
                  "--nworkers", "1", "--nthreads", "1", "--host", address, "--no-dashboard", "--no-nanny")
        master = subprocess.run(
            ["ip", "netns", "exec", hosts["a"], sys.executable, os.path.join(helpers, "dask_master.py"),
             scheduler_file, str(tmp_path / "work"), f"dmh{os.getpid()}", "wait_for_workers=2"],
            env=dict(_private_env(tmp_path, "master"), PYTHONPATH=python_path), capture_output=True, text=True,
            timeout=180)
        assert master.returncode == 0, master.stdout + master.stderr + log("scheduler")
        assert "RUNS 13" in master.stdout
    finally:
        for name in reversed(list(procs)):
            procs[name].terminate()
            try:
                procs[name].wait(timeout=30)
            except subprocess.TimeoutExpired:
                procs[name].kill()
                procs[name].wait()
            logs[name].close()
    from bandster.core.result import logged_results_to_HBS_result

    runs_dir = tmp_path / "work" / "bandster_runs"
    (journal,) = list(runs_dir.iterdir())
    runs = logged_results_to_HBS_result(str(journal)).get_all_runs()
    assert collections.Counter(r.budget for r in runs) == {1.0: 9, 3.0: 3, 9.0: 1}
    assert all(r.error_logs is None for r in runs)
    hosts_used = {r.worker_name.split("//")[1].rsplit(":", 1)[0] for r in runs}
    assert hosts_used == {"10.77.1.2", "10.77.2.2"}  # dask.tcp://<address>:<port>: both remote hosts computed
