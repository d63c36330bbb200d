"""`bandster nameserver` and `bandster worker` (MODULE:CLASS and --command), with real processes."""

import logging
import os
import shlex
import signal
import sys
import threading
import time

import ConfigSpace as CS
import pytest

from bandster.cli import main as cli_main
from bandster.core import credentials
from bandster.core.credentials import load_credentials
from bandster.optimizers import HyperBand
from bandster.workers.command import CommandFailed, CommandWorker, env_name

from testutil import HELPERS

SCRIPTS = os.path.join(HELPERS, "cmd_scripts")
SPACE = CS.ConfigurationSpace({"x": (0.0, 1.0)})


def _pid_of(worker_name):
    return int(worker_name.split(".")[-2])  # bandster.run_<id>.worker.<host>.<pid>.<id>


def _finish(proc, timeout=30):
    out, _ = proc.communicate(timeout=timeout)
    return proc.returncode, out


def _hyperband(run_id, host, port, secret, workdir, **kwargs):
    return HyperBand(configspace=SPACE, run_id=run_id, nameserver=host, nameserver_port=port,
                     nameserver_secret=secret, min_budget=1, max_budget=3, eta=3, working_directory=workdir,
                     seed=3, **kwargs)


@pytest.mark.timeout(120)
def test_standalone_nameserver_master_and_two_class_workers(tmp_path, run_id, spawn):
    shared = str(tmp_path / "shared dir")  # a space: every path must be passed through quoted
    os.makedirs(shared)  # the workers start with the name server: --dir must exist (issue 11, item 3)
    ns = spawn("-m", "bandster", "nameserver", "--run-id", run_id, f"{run_id}_b", "--dir", shared)
    first = spawn("-m", "bandster", "worker", "--run-id", run_id, "--dir", shared, "--env", "BANDSTER_TEST_MARK=m1",
                  "--worker-kwargs", '{"scale": 2, "sleep": 0.3}', "cmd_scripts.cli_workers:EchoWorker")
    second = spawn("-m", "bandster", "worker", "--run_id", run_id, "--shared_directory", shared, "--id", "two",
                   "--worker_kwargs", '{"sleep": 0.3}', os.path.join(SCRIPTS, "cli_workers.py") + ":EchoWorker")
    host, port, secret = load_credentials(shared, run_id, num_tries=60, interval=0.5)
    # the same name server serves a second run: its credentials file names the same server and secret
    assert load_credentials(shared, f"{run_id}_b", num_tries=1) == (host, port, secret)
    hb = _hyperband(run_id, host, port, secret, shared)
    try:
        result = hb.run(n_iterations=2, min_n_workers=2)
    finally:
        hb.shutdown(shutdown_workers=True)
    code1, out1 = _finish(first)
    code2, out2 = _finish(second)
    assert code1 == 0, out1
    assert code2 == 0, out2
    runs = result.get_all_runs()
    # (1, 3, 3): iteration 0 has 3 runs on budget 1 and 1 on budget 3; iteration 1 has 2 runs on budget 3
    assert sorted((r.config_id[0], r.budget) for r in runs) == [(0, 1.0)] * 3 + [(0, 3.0), (1, 3.0), (1, 3.0)]
    assert all(r.loss is not None for r in runs)
    by_pid = {}
    for r in runs:
        by_pid.setdefault(_pid_of(r.worker_name), []).append(r)
    assert set(by_pid) == {first.pid, second.pid}  # both workers computed
    for r in by_pid[first.pid]:  # --env before import, --worker-kwargs to the constructor
        assert r.info["mark_at_import"] == "m1" and r.info["scale"] == 2
        assert r.loss == pytest.approx(2 * r.info["x"] / r.budget)
    for r in by_pid[second.pid]:
        assert r.info["mark_at_import"] is None and r.info["scale"] == 1.0 and r.worker_name.endswith(".two")
    # SIGTERM stops the name server cleanly and removes both credentials files
    ns.send_signal(signal.SIGTERM)
    code, out = _finish(ns)
    assert code == 0, out
    assert "listening on" in out and "stopped" in out
    assert not os.path.exists(credentials.credentials_path(shared, run_id))
    assert not os.path.exists(credentials.credentials_path(shared, f"{run_id}_b"))


@pytest.mark.timeout(120)
def test_command_workers_in_python_and_shell(nameserver, run_id, tmp_path, spawn):
    """A Python program gets its placeholders and environment; a shell program's failure is a failed run."""
    shared = str(tmp_path)
    run_sh = f"{run_id}_sh"  # a second run on the same name server
    credentials.write_credentials(shared, run_sh, nameserver.host, nameserver.port, nameserver.secret)
    workdir = str(tmp_path / "it's a dir")  # a space and a quote: placeholders are shell-quoted
    py = spawn("-m", "bandster", "worker", "--run-id", run_id, "--dir", shared, "--env", "BANDSTER_TEST_MARK=cmd",
               "--command", f"{shlex.quote(sys.executable)} {shlex.quote(os.path.join(SCRIPTS, 'objective.py'))} "
                            "{config} {budget} {workdir} {result}")
    sh = spawn("-m", "bandster", "worker", "--run-id", run_sh, "--nameserver", nameserver.host, "--nameserver-port",
               str(nameserver.port), "--env", "FAIL_ON_BUDGET=3.0",
               "--command", f"sh {shlex.quote(os.path.join(SCRIPTS, 'objective.sh'))} {{result}}")
    results = {}

    def master(rid):
        hb = _hyperband(rid, nameserver.host, nameserver.port, None, workdir)
        try:
            results[rid] = hb.run(n_iterations=1, min_n_workers=1)
        finally:
            hb.shutdown(shutdown_workers=True)

    threads = [threading.Thread(target=master, args=(rid,)) for rid in (run_id, run_sh)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=90)
    assert not any(t.is_alive() for t in threads)
    for proc in (py, sh):
        code, out = _finish(proc)
        assert code == 0, out

    # the Python program: all four runs succeed, with what it was given echoed in info
    runs = results[run_id].get_all_runs()
    assert sorted(r.budget for r in runs) == [1.0, 1.0, 1.0, 3.0] and all(r.loss is not None for r in runs)
    id2config = results[run_id].get_id2config_mapping()
    for r in runs:
        config = id2config[r.config_id]["config"]
        info = r.info
        config_path, budget, cdir, result_path = info["argv"]
        assert budget == repr(r.budget) and info["config"] == config and info["workdir_is_dir"]
        assert cdir.startswith(workdir) and os.path.dirname(config_path) == cdir == os.path.dirname(result_path)
        assert r.loss == pytest.approx((config["x"] - 0.3) ** 2 + 1 / r.budget)
        env = info["env"]
        assert env["BANDSTER_HP_X"] == str(config["x"]) and env["BANDSTER_BUDGET"] == repr(r.budget)
        assert env["BANDSTER_CONFIG"] == config_path and env["BANDSTER_WORKDIR"] == cdir
        assert env["BANDSTER_PREVIOUS_BUDGET"] == ("1.0" if r.budget == 3.0 else "")
        assert info["mark"] == "cmd"
        with open(os.path.join(cdir, f"output_{r.budget!r}.log")) as fh:
            assert fh.read() == ""  # nothing printed; the log is kept beside the result

    # the shell program: three successes written as bare numbers, the promoted run fails with status 4
    runs = results[run_sh].get_all_runs()
    ok = [r for r in runs if r.loss is not None]
    failed = [r for r in runs if r.loss is None]
    assert [r.budget for r in ok] == [1.0] * 3 and [r.budget for r in failed] == [3.0]
    id2config = results[run_sh].get_id2config_mapping()
    for r in ok:
        assert r.loss == pytest.approx((id2config[r.config_id]["config"]["x"] - 0.3) ** 2 + 1, abs=1e-9)
        assert r.info["output"].endswith("output_1.0.log")
    error = failed[0].error_logs
    assert "exited with status 4" in error and "refusing budget 3.0" in error
    assert "previous budget: '1.0'" in error  # the tail holds stdout as well as stderr


def _compute(worker, tmp_path, config=None, budget=3, previous_budget=None):
    return worker.compute(config_id=(0, 0, 1), config=config or {"x": 0.5, "opt-name": "adam", "flag": True},
                          budget=budget, working_directory=str(tmp_path),
                          config_directory=str(tmp_path / "cfg dir"), previous_budget=previous_budget)


def test_command_results_and_failures(tmp_path, monkeypatch):
    objective = f"{shlex.quote(sys.executable)} {shlex.quote(os.path.join(SCRIPTS, 'objective.py'))} " \
                "{config} {budget} {workdir} {result}"
    worker = CommandWorker(run_id="unit", command=objective)
    result = _compute(worker, tmp_path, previous_budget=1)
    assert result["loss"] == pytest.approx(0.04 + 1 / 3)
    assert result["info"]["env"][env_name("opt-name")] == "adam" and result["info"]["env"]["BANDSTER_HP_FLAG"] == "True"
    assert result["info"]["env"]["BANDSTER_PREVIOUS_BUDGET"] == "1.0"

    monkeypatch.setenv("BANDSTER_HP_STALE", "x")  # not a hyperparameter of this job: not passed on
    assert "BANDSTER_HP_STALE" not in _compute(worker, tmp_path)["info"]["env"]

    monkeypatch.setenv("OBJ_MODE", "fail")
    with pytest.raises(CommandFailed) as info:
        _compute(worker, tmp_path)
    text = str(info.value)
    assert "exited with status 3" in text and "some progress on stdout" in text
    assert "something broke at budget 3.0" in text and "command: " in text

    monkeypatch.setenv("OBJ_MODE", "garbled")
    with pytest.raises(CommandFailed, match="neither a number nor JSON: 'loss is low, trust me'"):
        _compute(worker, tmp_path)
    monkeypatch.setenv("OBJ_MODE", "none")
    with pytest.raises(CommandFailed, match="wrote no result"):
        _compute(worker, tmp_path)  # also: the earlier attempt's result file was removed first

    def run(command):
        return _compute(CommandWorker(run_id="unit", command=command, tail_chars=50), tmp_path)

    assert run("echo ' 0.5 ' > {result}") == {"loss": 0.5, "info": {"output": str(tmp_path / "cfg dir" /
                                                                                "output_3.0.log")}}
    assert run("""echo '{"loss": "NaN", "info": [1]}' > {result}""")["info"] == [1]
    assert run("""echo '{"loss": 2, "extra": 1}' > {result}""")["extra"] == 1
    assert run("echo {budget} {previous_budget} {config_id} {unknown} | awk '{print $1}' > {result}")["loss"] == 3.0
    with pytest.raises(CommandFailed, match="no 'loss'"):
        run("""echo '{"error": 1}' > {result}""")
    with pytest.raises(CommandFailed, match="not a number"):
        run("""echo '{"loss": "low"}' > {result}""")
    with pytest.raises(CommandFailed) as info:
        run("for i in $(seq 1 200); do echo line $i; done; exit 1")
    assert "line 200" in str(info.value) and "line 1\n" not in str(info.value)  # only the tail
    with pytest.raises(CommandFailed, match="status 127"):
        run("no-such-program-bandster {result}")
    with pytest.raises(CommandFailed, match="killed by SIGKILL"):
        run("kill -9 $$")
    with pytest.raises(ValueError, match="command line"):
        CommandWorker(run_id="unit", command=" ")


@pytest.mark.timeout(120)
def test_signals_deliver_or_hand_back_the_running_job(nameserver, run_id, tmp_path, spawn):
    """One SIGTERM: the command finishes, its result is delivered, the worker leaves. Two SIGTERMs, or a
    SIGTERM to the worker and its command at once (what scancel does): the command stops and its job is
    handed back; another worker runs it, and no run fails."""
    marks = tmp_path / "marks"
    marks.mkdir()
    command = (f'echo $$ > "$MARKS/$PPID"; sleep 3; {shlex.quote(sys.executable)} '
               f"{shlex.quote(os.path.join(SCRIPTS, 'objective.py'))} {{config}} {{budget}} {{workdir}} {{result}}")
    args = ("-m", "bandster", "worker", "--run-id", run_id, "--dir", str(tmp_path), "--env", f"MARKS={marks}",
            "--command", command)
    once, twice, together = spawn(*args), spawn(*args), spawn(*args)
    hb = _hyperband(run_id, nameserver.host, nameserver.port, None, str(tmp_path))
    out = {}
    runner = threading.Thread(target=lambda: out.setdefault("result", hb.run(n_iterations=1, min_n_workers=3)))
    runner.start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not all(
                (marks / str(p.pid)).exists() and (marks / str(p.pid)).read_text().strip()
                for p in (once, twice, together)):
            time.sleep(0.05)
        command_group = int((marks / str(together.pid)).read_text())
        once.send_signal(signal.SIGTERM)
        twice.send_signal(signal.SIGTERM)
        together.send_signal(signal.SIGTERM)
        os.killpg(command_group, signal.SIGTERM)
        time.sleep(0.5)
        twice.send_signal(signal.SIGTERM)
        for proc in (twice, together):
            code, log = _finish(proc)
            assert code == 0, log
            assert "handing it back" in log
        code, log = _finish(once)
        assert code == 0, log
        rescuer = spawn("-m", "bandster", "worker", "--run-id", run_id, "--dir", str(tmp_path),
                        "cmd_scripts.cli_workers:EchoWorker")
        runner.join(timeout=60)
        assert not runner.is_alive()
    finally:
        hb.shutdown(shutdown_workers=True)
        runner.join(timeout=30)
    assert _finish(rescuer)[0] == 0
    runs = out["result"].get_all_runs()
    assert len(runs) == 4 and all(r.loss is not None for r in runs)
    pids = [_pid_of(r.worker_name) for r in runs]
    assert pids.count(once.pid) == 1 and pids.count(rescuer.pid) == 3
    handed_back = [r for r in runs if r.attempt == 2]
    assert len(handed_back) == 2 and all(_pid_of(r.worker_name) == rescuer.pid for r in handed_back)


@pytest.mark.timeout(60)
def test_idle_timeout(nameserver, run_id, tmp_path, spawn):
    start = time.monotonic()
    proc = spawn("-m", "bandster", "worker", "--run-id", run_id, "--dir", str(tmp_path), "--timeout", "1",
                 "cmd_scripts.cli_workers:EchoWorker")
    code, out = _finish(proc, timeout=50)
    assert code == 0, out
    assert "idle for 1.0 s" in out and time.monotonic() - start < 45


def test_usage_errors(tmp_path, capsys, monkeypatch, run_id):
    monkeypatch.syspath_prepend(HELPERS)
    base = ["worker", "--run-id", run_id, "--dir", str(tmp_path), "--wait", "0.5"]

    def error(*argv):
        code = cli_main([*argv])
        return code, capsys.readouterr().err

    code, err = error(*base)
    assert code == 2 and "either MODULE:CLASS or --command" in err
    code, err = error(*base, "--command", "true", "cmd_scripts.cli_workers:EchoWorker")
    assert code == 2 and "either MODULE:CLASS or --command" in err
    code, err = error("worker", "--run-id", run_id, "--command", "true")
    assert code == 2 and "--dir" in err and "--nameserver" in err
    code, err = error(*base, "--env", "NOVALUE", "--command", "true")
    assert code == 2 and "KEY=VALUE" in err
    code, err = error(*base, "--worker-kwargs", "{not json", "--command", "true")
    assert code == 2 and "not valid JSON" in err
    code, err = error(*base, "--worker-kwargs", "[1]", "--command", "true")
    assert code == 2 and "JSON object" in err
    code, err = error(*base, "--worker-kwargs", '{"run_id": "x"}', "--command", "true")
    assert code == 2 and "may not set run_id" in err
    code, err = error("worker", "--run-id", "bad id!", "--dir", str(tmp_path), "--command", "true")
    assert code == 2 and "letters, digits" in err
    code, err = error(*base, "--nic", "nosuchnic0", "--command", "true")
    assert code == 1 and "nosuchnic0" in err and "lo (127.0.0.1)" in err  # lists the interfaces that exist
    code, err = error(*base, "--command", "true")  # nobody writes the credentials file
    assert code == 1 and credentials.credentials_path(str(tmp_path), run_id) in err and "did not appear" in err
    for target, message in [("cmd_scripts.cli_workers:NotAWorker", "not a subclass"),
                            ("cmd_scripts.cli_workers:Missing", "no attribute 'Missing'"),
                            ("no_such_module_xyz:W", "cannot import 'no_such_module_xyz'"),
                            ("cmd_scripts.cli_workers", "expected MODULE:CLASS"),
                            (str(tmp_path / "absent.py") + ":W", "no such file")]:
        code, err = error("worker", "--run-id", run_id, "--nameserver", "127.0.0.1", target)
        assert code == 2 and message in err, (target, err)


@pytest.mark.timeout(60)
def test_missing_directory_fails_at_once(tmp_path, capsys, run_id):
    """Issue 11, item 3: ``--dir`` that does not exist is an error at once, not after ``--wait``."""
    missing = tmp_path / "nonexistent"
    start = time.monotonic()
    code = cli_main(["worker", "--run-id", run_id, "--dir", str(missing), "--wait", "30", "--command", "true"])
    err = capsys.readouterr().err
    assert code == 2 and f"--dir {missing}: no such directory" in err and "working_directory" in err
    assert time.monotonic() - start < 25  # it did not wait out --wait


@pytest.mark.timeout(60)
def test_worker_without_name_server_waits_then_exits_1(capsys, run_id):
    """``--nameserver`` with no name server: waits ``--wait`` s (saying so), then exit status 1 and the reason."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code = cli_main(["worker", "--run-id", run_id, "--nameserver", "127.0.0.1", "--nameserver-port", str(port),
                     "--wait", "0.5", "--command", "true"])
    err = capsys.readouterr().err
    assert code == 1 and f"cannot reach the name server at 127.0.0.1:{port}" in err


def test_help_has_examples(capsys):
    for command, expected in [("worker", "--command 'python train.py"), ("nameserver", "bandster nameserver --run-id")]:
        with pytest.raises(SystemExit) as info:
            cli_main([command, "--help"])
        assert info.value.code == 0
        out = capsys.readouterr().out
        assert expected in out and "--run_id" in out and "examples:" in out


def test_nameserver_usage_errors(tmp_path, capsys):
    assert cli_main(["nameserver", "--run-id", "bad id", "--dir", str(tmp_path)]) == 2
    assert "letters, digits" in capsys.readouterr().err
    assert cli_main(["nameserver", "--run-id", "ok", "--dir", str(tmp_path), "--nic", "nosuchnic0"]) == 1
    assert "Interfaces here" in capsys.readouterr().err
    assert not os.listdir(tmp_path)


@pytest.mark.timeout(60)
def test_a_garbled_result_is_logged_with_its_reason(nameserver, run_id, tmp_path, caplog):
    """Issue 11, item 8: the log line of a failed command run says why (not the last line of its output)."""
    import logging

    worker = CommandWorker(run_id=run_id, nameserver=nameserver.host, nameserver_port=nameserver.port,
                           command="echo abc > {result}")
    worker.run(background=True)
    hb = HyperBand(configspace=CS.ConfigurationSpace({"x": (0.0, 1.0)}, seed=1), run_id=run_id,
                   nameserver=nameserver.host, nameserver_port=nameserver.port, min_budget=1, max_budget=1,
                   working_directory=str(tmp_path))
    try:
        with caplog.at_level(logging.WARNING, logger="bandster"):
            result = hb.run(n_iterations=1)
    finally:
        hb.shutdown(shutdown_workers=True)
        worker.shutdown()
    assert "<no output>" in result.get_all_runs()[0].error_logs  # the full text keeps the (empty) output
    failed = [r.getMessage() for r in caplog.records if "failed:" in r.getMessage()]
    assert failed and all("neither a number nor JSON: 'abc'" in m for m in failed), failed
    assert not any(m.endswith("<no output>") for m in failed)


@pytest.mark.timeout(120)
def test_a_shell_command_reports_and_is_stopped_by_sigterm_then_sigkill(nameserver, run_id, tmp_path, spawn):
    """MedianStopping (grace 1, one sample) over a --command worker: the first configuration runs to the end; each
    later one is worse at step 1, stopped there, and ends by its SIGTERM trap (its own result), by exiting on
    SIGTERM (its last report is the result) or, ignoring SIGTERM, by SIGKILL after --stop-grace."""
    from bandster.optimizers import MedianStopping

    worker = spawn("-m", "bandster", "worker", "--run-id", run_id, "--nameserver", nameserver.host,
                   "--nameserver-port", str(nameserver.port), "--stop-grace", "1",
                   "--command", f"sh {shlex.quote(os.path.join(SCRIPTS, 'reporting.sh'))} {{reports}} {{result}}")
    opt = MedianStopping(configspace=CS.ConfigurationSpace({"x": (0.0, 1.0)}, seed=0), run_id=run_id,
                         nameserver=nameserver.host, nameserver_port=nameserver.port, max_budget=3, grace_period=1,
                         min_samples_required=1, working_directory=str(tmp_path), seed=0)
    try:
        result = opt.run(n_iterations=10, max_configs=4, min_n_workers=1, progress=False)
    finally:
        opt.shutdown(shutdown_workers=True)
    code, out = _finish(worker)
    assert code == 0, out
    runs = {r.config_id[2]: r for r in result.get_all_runs()}
    assert sorted(runs) == [0, 1, 2, 3] and all(r.error_logs is None for r in runs.values())
    assert runs[0].loss == pytest.approx(1 / 3)
    assert runs[1].loss == 2.5 and runs[1].info == {"sigterm": True}  # written by its SIGTERM trap
    assert runs[2].loss == 3.0 and runs[2].info == {"n": 2}  # its last report
    assert runs[3].loss == 4.0 and runs[3].info == {"n": 3}
    assert {n: (r.status, r.stopped_at) for n, r in runs.items()} == {
        0: ("ok", None), 1: ("stopped", 1.0), 2: ("stopped", 1.0), 3: ("stopped", 1.0)}
    assert "SIGKILL" in out and "did not exit within 1 s of SIGTERM" in out


def test_reports_file_lines_are_parsed_and_bad_ones_skipped(tmp_path, caplog):
    from bandster.workers.command import ReportsReader

    path = str(tmp_path / "reports.jsonl")
    reader = ReportsReader(path)
    assert reader.read(logging.getLogger("t")) == []  # not written yet
    with open(path, "w") as fh:
        fh.write('{"step": 1, "loss": 0.5}\nnot json\n{"step": 0, "loss": 1}\n{"loss": 2}\n{"step": 2, "lo')
    with caplog.at_level("WARNING"):
        assert reader.read(logging.getLogger("t")) == [(1.0, 0.5, None)]
    assert "line 2: not JSON" in caplog.text and "line 3: report(step=0)" in caplog.text
    assert 'line 4: a report needs "step" and "loss"' in caplog.text
    with open(path, "a") as fh:
        fh.write('ss": 0.25, "info": {"a": [1]}}\n')
    assert reader.read(logging.getLogger("t")) == [(2.0, 0.25, {"a": [1]})]  # the line was finished
