"""A worker that evaluates each configuration by running a command: programs in any language.

The command is a shell command line (run by ``/bin/sh -c``) with placeholders, each replaced by a
shell-quoted value:

``{config}``
    path of a JSON file holding the configuration (``{"lr": 0.01, "layers": 3}``);
``{budget}``
    the budget as Python writes a float (``9.0``);
``{workdir}``
    the configuration's own directory (the same on every budget and every worker: keep checkpoints there);
``{result}``
    the path where the program writes its result: a bare number (the loss, minimised) or JSON
    ``{"loss": 0.25, "info": {...}}``;
``{previous_budget}``
    the budget this configuration last finished on, empty the first time;
``{config_id}``
    the configuration's id as ``i_j_k``;
``{reports}``
    the path of a file the program may append intermediate reports to, one JSON line each:
    ``{"step": 3, "loss": 0.41}``, optionally with ``"info": {...}`` (see below).

Other braces are left alone (``awk '{print $1}'`` works). The program also finds the configuration in
environment variables ``BANDSTER_HP_<NAME>`` (the name upper-cased, other characters than letters, digits
and ``_`` replaced by ``_``), the budget in ``BANDSTER_BUDGET``, and the paths in ``BANDSTER_CONFIG``,
``BANDSTER_RESULT`` and ``BANDSTER_WORKDIR``; ``BANDSTER_PREVIOUS_BUDGET``, ``BANDSTER_CONFIG_ID`` and
``BANDSTER_REPORTS`` too.

Intermediate reports (early stopping): the worker reads the reports file every :data:`REPORTS_POLL` seconds
(0.2 s) while the program runs, and once more when it exits, and passes each new complete line on as
``Worker.report(step, loss, info)``. A line that is not such JSON is skipped with a warning naming the file. When
the scheduler stops the job, the program's process group gets SIGTERM (save a checkpoint and exit), and SIGKILL
after ``stop_grace`` seconds (``bandster worker --stop-grace``, default 10) if any process of the group is left. A
stopped job's result is what the program wrote to ``{result}`` if it wrote a usable one, else its last report: it
is recorded as stopped at the step of that report, never as failed.

A non-zero exit status, or a result file that is missing or holds neither a number nor such JSON, makes the
run a failed run whose error holds the exit status and the tail of the program's output (stdout and stderr,
kept in full in ``output_<budget>.log`` in the configuration's directory).

The command runs in its own process group, so a Ctrl-C meant for the worker does not kill it half-way. When
the worker is shutting down (``bandster worker`` got SIGTERM or Ctrl-C) and the command fails, e.g. because the
scheduler signalled the whole job, the job is handed back to the master (re-queued for another worker) instead of
being recorded as failed.
"""

from __future__ import annotations

import json
import math
import os
import re
import shlex
import signal
import subprocess
import threading
import time
from typing import Any

from bandster.core.reporting import check_report
from bandster.core.worker import HandBack, Worker

#: the placeholders a command may use
PLACEHOLDERS = ("config", "budget", "workdir", "result", "previous_budget", "config_id", "reports")
_PLACEHOLDER = re.compile(r"\{(" + "|".join(PLACEHOLDERS) + r")\}")
ENV_PREFIX = "BANDSTER_HP_"
#: seconds between two reads of a running program's reports file
REPORTS_POLL = 0.2
#: seconds between two checks whether a stopped command's process group has exited
GROUP_POLL = 0.05


#: exit statuses of a command killed by SIGHUP, SIGINT, SIGKILL or SIGTERM (directly, or as a shell reports it)
_STOP_CODES = {-n for n in (1, 2, 9, 15)} | {128 + n for n in (1, 2, 9, 15)}


class CommandFailed(RuntimeError):
    """The command exited with a non-zero status or left no usable result; the message says which."""


def env_name(name: str) -> str:
    """``BANDSTER_HP_<NAME>`` for a hyperparameter name.

    >>> env_name('lr')
    'BANDSTER_HP_LR'
    >>> env_name('conv:num-filters')
    'BANDSTER_HP_CONV_NUM_FILTERS'
    """
    return ENV_PREFIX + re.sub(r"[^A-Z0-9_]", "_", str(name).upper())


def env_value(value: Any) -> str:
    """How a configuration value is written into an environment variable (as Python prints it)."""
    return value if isinstance(value, str) else json.dumps(value) if value is None else str(value)


def render(command: str, values: dict[str, str]) -> str:
    """``command`` with each known placeholder replaced by its shell-quoted value.

    >>> render("train {config} --epochs {budget} | awk '{print $1}'", {"config": "/a b/c.json", "budget": "9.0"})
    "train '/a b/c.json' --epochs 9.0 | awk '{print $1}'"
    """
    return _PLACEHOLDER.sub(lambda m: shlex.quote(values.get(m.group(1), "")), command)


def parse_result(text: str) -> dict[str, Any]:
    """The result a program wrote: a bare number (the loss) or JSON ``{"loss": ..., "info": ...}``.

    Raises ValueError naming what was wrong.

    >>> parse_result(' 0.25\\n')
    {'loss': 0.25, 'info': None}
    >>> parse_result('{"loss": 1, "info": {"acc": 0.9}}')
    {'loss': 1.0, 'info': {'acc': 0.9}}
    """
    stripped = text.strip()
    if not stripped:
        raise ValueError("the result file is empty")
    try:
        return {"loss": float(stripped), "info": None}
    except ValueError:
        pass
    try:
        value = json.loads(stripped)
    except ValueError:
        raise ValueError(f"the result file holds neither a number nor JSON: {_clip(stripped)!r}") from None
    if isinstance(value, dict):
        if "loss" not in value:
            raise ValueError(f"the JSON result has no 'loss' (keys: {sorted(value)})")
        loss = value["loss"]
        if isinstance(loss, str):
            try:
                loss = float(loss)  # "NaN", "Infinity", "1e-3"
            except ValueError:
                pass
        if isinstance(loss, bool) or not isinstance(loss, int | float):
            raise ValueError(f"the JSON result's loss {loss!r} is not a number")
        result = dict(value)
        result["loss"] = float(loss)
        result.setdefault("info", None)
        return result
    if isinstance(value, int | float) and not isinstance(value, bool):
        return {"loss": float(value), "info": None}
    raise ValueError(f"the result file holds JSON that is neither a number nor an object: {_clip(stripped)!r}")


def _clip(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _tag(budget: float) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", repr(float(budget)))


class CommandWorker(Worker):
    """Runs ``command`` (a shell command line with placeholders, see :mod:`bandster.workers.command`) per job.

    Parameters
    ----------
    command : str
        The command line, e.g. ``'python train.py --config {config} --epochs {budget} --out {result}'``.
    *args, **kwargs
        Passed to :class:`~bandster.core.worker.Worker` (``run_id``, ``nameserver``, ...).
    cwd : str, optional
        Directory the command runs in (default: the worker's current directory).
    tail_chars : int
        How much of the end of the program's output goes into a failed run's error.
    stop_grace : float
        Seconds a program stopped by the scheduler (SIGTERM) has to exit before it gets SIGKILL.

    Examples
    --------
    >>> w = CommandWorker(run_id='doc', command='echo {budget} > {result}')
    >>> w.compute(config_id=(0, 0, 0), config={'x': 1}, budget=3, working_directory='.',
    ...           config_directory='cfg')['loss']
    3.0
    """

    def __init__(self, *args: Any, command: str, cwd: str | None = None, tail_chars: int = 2000,
                 stop_grace: float = 10.0, **kwargs: Any) -> None:
        if not isinstance(command, str) or not command.strip():
            raise ValueError("CommandWorker needs a command line, e.g. command='python train.py {config} {result}'")
        if isinstance(stop_grace, bool) or not isinstance(stop_grace, int | float) or not stop_grace >= 0:
            raise ValueError(f"stop_grace must be a number of seconds >= 0, got {stop_grace!r}")
        self.stop_grace = float(stop_grace)
        super().__init__(*args, **kwargs)
        self.command = command
        self.cwd = cwd
        self.tail_chars = int(tail_chars)
        self._proc: subprocess.Popen | None = None
        self._proc_lock = threading.Lock()
        self._interrupted = False

    def compute(
        self,
        config_id: tuple,
        config: dict,
        budget: float,
        working_directory: str,
        config_directory: str | None = None,
        previous_budget: float | None = None,
        **kwargs: Any,
    ) -> dict:
        """Run the command for one job; return its result or raise :class:`CommandFailed`."""
        cid = "_".join(str(int(i)) for i in config_id)
        directory = os.path.abspath(
            config_directory or os.path.join(working_directory, "bandster_commands", f"config_{cid}")
        )
        os.makedirs(directory, exist_ok=True)
        tag = _tag(budget)
        config_file = os.path.join(directory, "config.json")
        result_file = os.path.join(directory, f"result_{tag}.txt")
        log_file = os.path.join(directory, f"output_{tag}.log")
        reports_file = os.path.join(directory, f"reports_{tag}.jsonl")
        with open(config_file, "w") as fh:
            json.dump(config, fh, indent=1, sort_keys=True)
        for stale in (result_file, reports_file):
            if os.path.exists(stale):
                os.unlink(stale)  # left by an earlier attempt of this job
        previous = "" if previous_budget is None else repr(float(previous_budget))
        values = {
            "config": config_file,
            "budget": repr(float(budget)),
            "workdir": directory,
            "result": result_file,
            "previous_budget": previous,
            "config_id": cid,
            "reports": reports_file,
        }
        env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}
        for name, value in config.items():
            env[env_name(name)] = env_value(value)
        env.update(
            BANDSTER_BUDGET=values["budget"],
            BANDSTER_CONFIG=config_file,
            BANDSTER_RESULT=result_file,
            BANDSTER_WORKDIR=directory,
            BANDSTER_PREVIOUS_BUDGET=previous,
            BANDSTER_CONFIG_ID=cid,
            BANDSTER_REPORTS=reports_file,
        )
        line = render(self.command, values)
        self._interrupted = False
        with open(log_file, "wb") as log:
            with self._proc_lock:
                proc = self._proc = subprocess.Popen(
                    line, shell=True, cwd=self.cwd, env=env, stdin=subprocess.DEVNULL, stdout=log,
                    stderr=subprocess.STDOUT, start_new_session=True,
                )
            reader = ReportsReader(reports_file)
            try:
                stopped = self._wait(proc, reader, cid)
                code = proc.returncode
            finally:
                with self._proc_lock:
                    self._proc = None
        if stopped is not None:
            return self._stopped_result(stopped, code, result_file, log_file, config_id)
        if code != 0:
            if code in _STOP_CODES and not self._stop:
                # killed together with this worker (scancel, qdel signal the whole job)? Give the worker's own
                # signal handler a moment to mark it as leaving, so the job is handed back, not failed.
                deadline = time.monotonic() + 1.0
                while not self._stop and time.monotonic() < deadline:
                    time.sleep(0.02)
            if self._stop or self._interrupted:
                # stopped by the worker's shutdown while the command ran (a signal reaches the whole process
                # group): not a failure of this configuration; give the job back, the master queues it again
                raise HandBack(f"the command {_describe_exit(code)} while the worker was shutting down")
            raise CommandFailed(self._failure(f"the command {_describe_exit(code)}", line, log_file))
        try:
            with open(result_file, errors="replace") as fh:
                text = fh.read()
        except FileNotFoundError:
            raise CommandFailed(
                self._failure(f"the command exited with status 0 but wrote no result to {result_file}", line, log_file)
            ) from None
        try:
            result = parse_result(text)
        except ValueError as exc:
            raise CommandFailed(self._failure(f"the command exited with status 0 but {exc}", line, log_file)) from None
        if result.get("info") is None:
            result["info"] = {"output": log_file}
        if not math.isfinite(result["loss"]):
            self.logger.warning("job %s: the command reported a non-finite loss %s", config_id, result["loss"])
        return result

    def _wait(self, proc: subprocess.Popen, reader: ReportsReader, cid: str) -> list | None:
        """Wait for the program to exit, passing its reports on every :data:`REPORTS_POLL` s; when the scheduler
        stops the job, SIGTERM its process group (SIGKILL after ``stop_grace``). Returns the report the job was
        stopped at (``[step, loss, info]``), or None."""
        exited = threading.Event()

        def wait() -> None:
            proc.wait()
            exited.set()

        waiter = threading.Thread(target=wait, name=f"bandster-command-{cid}", daemon=True)
        waiter.start()
        stopped = None
        kill_at = None
        try:
            while not exited.wait(REPORTS_POLL if kill_at is None else max(0.0, kill_at - time.monotonic())):
                if stopped is None:
                    stopped = self._forward(reader)
                    if stopped is not None:
                        self.logger.info("job %s stopped at step %g: SIGTERM to the command (SIGKILL in %g s)", cid,
                                         stopped[0], self.stop_grace)
                        _signal_group(proc, signal.SIGTERM)
                        kill_at = time.monotonic() + self.stop_grace
                elif time.monotonic() >= kill_at:
                    self._kill(proc, cid)
                    kill_at = float("inf")
        finally:
            waiter.join()
        if stopped is None:
            return self._forward(reader)  # the lines written last
        if kill_at is not None and kill_at != float("inf"):
            self._wait_for_group(proc, kill_at, cid)
        return stopped

    def _wait_for_group(self, proc: subprocess.Popen, kill_at: float, cid: str) -> None:
        """After a stop: the shell that ran the command line may have died of the SIGTERM while the program it
        started still handles it (writing its checkpoint and result). Wait until no process of the group is left,
        checking every :data:`GROUP_POLL` s, and SIGKILL what is left at ``kill_at``."""
        while True:
            try:
                os.killpg(proc.pid, 0)
            except OSError:
                return  # the group is gone
            if time.monotonic() >= kill_at:
                self._kill(proc, cid)
                return
            time.sleep(GROUP_POLL)

    def _kill(self, proc: subprocess.Popen, cid: str) -> None:
        self.logger.warning("job %s: the command did not exit within %g s of SIGTERM (stop_grace): SIGKILL", cid,
                            self.stop_grace)
        _signal_group(proc, signal.SIGKILL)

    def _forward(self, reader: ReportsReader) -> list | None:
        """Pass the new complete lines of the reports file on; the report the job was stopped at, or None."""
        for step, loss, info in reader.read(self.logger):
            if self.report(step, loss, info):
                return [step, loss, info]
        return None

    def _stopped_result(self, stopped: list, code: int, result_file: str, log_file: str, config_id: tuple) -> dict:
        """A stopped job's result: the program's own if it wrote one (the file is removed before the command
        starts), else its last report."""
        try:
            with open(result_file, errors="replace") as fh:
                return parse_result(fh.read())
        except (OSError, ValueError):
            pass
        step, loss, info = stopped
        self.logger.info("job %s stopped at step %g (the command %s); its result is that report", config_id, step,
                         _describe_exit(code))
        return {"loss": loss, "info": info if info is not None else {"output": log_file}}

    def stop_command(self, sig: int = signal.SIGTERM) -> bool:
        """Send ``sig`` to the running command and its children (if any); True if there was one.

        The command runs in its own process group (so a Ctrl-C meant for the worker does not kill it half-way);
        this signals the whole group.
        """
        with self._proc_lock:
            proc = self._proc
            if proc is None or proc.poll() is not None:
                return False
            self._interrupted = True
            try:
                os.killpg(proc.pid, sig)
            except OSError:
                proc.send_signal(sig)
            return True

    def _failure(self, what: str, line: str, log_file: str) -> str:
        tail = self._tail(log_file)
        return f"{what}.\ncommand: {line}\noutput ({log_file}), last {self.tail_chars} characters:\n{tail}"

    def _tail(self, path: str) -> str:
        try:
            with open(path, "rb") as fh:
                fh.seek(0, os.SEEK_END)
                size = fh.tell()
                fh.seek(max(0, size - 4 * self.tail_chars))
                text = fh.read().decode(errors="replace")
        except OSError as exc:
            return f"<could not read the output: {exc}>"
        return text[-self.tail_chars :] if text else "<no output>"


class ReportsReader:
    """Reads the complete JSON lines appended to a reports file since the last read (a line still being written
    waits for its newline)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._offset = 0
        self._partial = b""
        self._line = 0

    def read(self, logger: Any) -> list[tuple[float, float, Any]]:
        """The new reports, ``(step, loss, info)`` each; bad lines are skipped with a warning."""
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self._offset)
                data = fh.read()
        except FileNotFoundError:
            return []
        self._offset += len(data)
        *lines, self._partial = (self._partial + data).split(b"\n")
        reports = []
        for raw in lines:
            self._line += 1
            if not raw.strip():
                continue
            try:
                reports.append(parse_report(raw.decode(errors="replace")))
            except ValueError as exc:
                logger.warning("%s, line %d: %s; the line is skipped (write one JSON object per line, "
                               "e.g. {\"step\": 3, \"loss\": 0.41})", self.path, self._line, exc)
        return reports


def parse_report(line: str) -> tuple[float, float, Any]:
    """One line of a reports file: ``{"step": 3, "loss": 0.41, "info": {...}}`` (info optional).

    Raises ValueError naming what was wrong.

    >>> parse_report('{"step": 3, "loss": 0.41}')
    (3.0, 0.41, None)
    >>> parse_report('{"step": 1, "loss": "NaN", "info": {"acc": 0.5}}')
    (1.0, nan, {'acc': 0.5})
    """
    try:
        value = json.loads(line)
    except ValueError:
        raise ValueError(f"not JSON: {_clip(line.strip())!r}") from None
    if not isinstance(value, dict) or "step" not in value or "loss" not in value:
        raise ValueError(f"a report needs \"step\" and \"loss\": {_clip(line.strip())!r}")
    loss = value["loss"]
    if isinstance(loss, str):
        try:
            loss = float(loss)
        except ValueError:
            pass
    try:
        return check_report(value["step"], loss, value.get("info"))
    except (TypeError, ValueError) as exc:
        raise ValueError(str(exc)) from None


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except OSError:
        try:
            proc.send_signal(sig)
        except OSError:
            pass


def _describe_exit(code: int) -> str:
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"was killed by {name} (exit status {code})"
    return f"exited with status {code}"
