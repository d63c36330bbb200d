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
    the configuration's id as ``i_j_k``.

Other braces are left alone (``awk '{print $1}'`` works). The program also finds the configuration in
environment variables ``BANDSTER_HP_<NAME>`` (the name upper-cased, other characters than letters, digits
and ``_`` replaced by ``_``), the budget in ``BANDSTER_BUDGET``, and the paths in ``BANDSTER_CONFIG``,
``BANDSTER_RESULT`` and ``BANDSTER_WORKDIR``; ``BANDSTER_PREVIOUS_BUDGET`` and ``BANDSTER_CONFIG_ID`` too.

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

from bandster.core.worker import HandBack, Worker

#: the placeholders a command may use
PLACEHOLDERS = ("config", "budget", "workdir", "result", "previous_budget", "config_id")
_PLACEHOLDER = re.compile(r"\{(" + "|".join(PLACEHOLDERS) + r")\}")
ENV_PREFIX = "BANDSTER_HP_"


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

    Examples
    --------
    >>> w = CommandWorker(run_id='doc', command='echo {budget} > {result}')
    >>> w.compute(config_id=(0, 0, 0), config={'x': 1}, budget=3, working_directory='.',
    ...           config_directory='cfg')['loss']
    3.0
    """

    def __init__(self, *args: Any, command: str, cwd: str | None = None, tail_chars: int = 2000,
                 **kwargs: Any) -> None:
        if not isinstance(command, str) or not command.strip():
            raise ValueError("CommandWorker needs a command line, e.g. command='python train.py {config} {result}'")
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
        with open(config_file, "w") as fh:
            json.dump(config, fh, indent=1, sort_keys=True)
        if os.path.exists(result_file):
            os.unlink(result_file)  # left by an earlier attempt of this job
        previous = "" if previous_budget is None else repr(float(previous_budget))
        values = {
            "config": config_file,
            "budget": repr(float(budget)),
            "workdir": directory,
            "result": result_file,
            "previous_budget": previous,
            "config_id": cid,
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
        )
        line = render(self.command, values)
        self._interrupted = False
        with open(log_file, "wb") as log:
            with self._proc_lock:
                proc = self._proc = subprocess.Popen(
                    line, shell=True, cwd=self.cwd, env=env, stdin=subprocess.DEVNULL, stdout=log,
                    stderr=subprocess.STDOUT, start_new_session=True,
                )
            try:
                code = proc.wait()
            finally:
                with self._proc_lock:
                    self._proc = None
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


def _describe_exit(code: int) -> str:
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"was killed by {name} (exit status {code})"
    return f"exited with status {code}"
