"""Where name-server addresses and secrets are kept: the shared directory and a per-user file.

Two JSON files (never pickles), both written with mode 0600:

* the *shared credentials file* ``<shared directory>/bandster_<run_id>.credentials.json``, written by a
  :class:`~bandster.core.nameserver.NameServer` given a ``working_directory``; workers on other hosts read
  it to find the name server and its secret;
* the *per-user secret file* ``<runtime dir>/bandster/ns_<host>_<port>.json``, written by every name
  server, so that a worker in another process on the same machine that was given only
  ``nameserver``/``nameserver_port`` (as in HpBandSter's examples) finds the secret by itself. Other users
  cannot read it.

An explicit ``nameserver_secret=`` argument or the ``BANDSTER_SECRET`` environment variable overrides both.

A credentials file left by a master that died is *stale*: :func:`wait_for_credentials` (used by
``Worker.load_nameserver_credentials`` and :func:`load_credentials`) pings the name server it names, with its
secret, and keeps waiting for a new master to overwrite the file instead of using it.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import tempfile
import threading
import time
from typing import Any

logger = logging.getLogger(__name__)

SECRET_ENV = "BANDSTER_SECRET"
_FORMAT = "bandster-credentials"

# name servers running in this process: (host, port) -> secret
_local_secrets: dict[tuple[str, int], str] = {}
_local_lock = threading.Lock()


def credentials_path(directory: str, run_id: str) -> str:
    """The shared credentials file of ``run_id`` in ``directory``."""
    return os.path.join(os.path.abspath(directory), f"bandster_{run_id}.credentials.json")


def user_runtime_dir() -> str:
    """A per-user directory only its owner can read (``$XDG_RUNTIME_DIR/bandster`` or ``~/.cache/bandster``)."""
    base = os.environ.get("XDG_RUNTIME_DIR")
    if not base or not os.path.isdir(base):
        base = os.path.join(os.path.expanduser("~"), ".cache")
    path = os.path.join(base, "bandster")
    os.makedirs(path, mode=0o700, exist_ok=True)
    return path


def _user_secret_path(host: str, port: int) -> str:
    safe_host = "".join(c if c.isalnum() or c in ".-" else "_" for c in host)
    return os.path.join(user_runtime_dir(), f"ns_{safe_host}_{int(port)}.json")


def write_private_json(path: str, data: dict[str, Any]) -> None:
    """Write ``data`` to ``path`` atomically with mode 0600."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=directory)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def credentials_record(run_id: str, host: str, port: int, secret: str) -> dict[str, Any]:
    """The JSON record written for a name server."""
    return {
        "format": _FORMAT,
        "version": 1,
        "run_id": run_id,
        "host": host,
        "port": int(port),
        "secret": secret,
        "started": time.time(),
        "pid": os.getpid(),
        "hostname": socket.gethostname(),
    }


def register_local_secret(host: str, port: int, secret: str, run_id: str) -> str:
    """Remember the secret of a name server started in this process; also write the per-user file."""
    with _local_lock:
        _local_secrets[(host, int(port))] = secret
    path = _user_secret_path(host, port)
    try:
        write_private_json(path, credentials_record(run_id, host, port, secret))
    except OSError as exc:  # pragma: no cover - unusual file systems
        logger.warning("could not write the per-user secret file %s: %s", path, exc)
    return path


def forget_local_secret(host: str, port: int) -> None:
    """Drop the secret of a name server of this process that has shut down."""
    with _local_lock:
        _local_secrets.pop((host, int(port)), None)
    path = _user_secret_path(host, port)
    try:
        with open(path) as fh:
            record = json.load(fh)
        if record.get("pid") == os.getpid():
            os.unlink(path)
    except (OSError, ValueError):
        pass


def _loopback_aliases(host: str) -> list[str]:
    if host in ("localhost", "127.0.0.1", "::1"):
        return ["127.0.0.1", "localhost", "::1"]
    return [host]


def find_secret(host: str, port: int, explicit: str | None = None) -> str | None:
    """The secret for the name server at ``host:port``.

    Looks, in order, at ``explicit``, ``$BANDSTER_SECRET``, name servers of this process, and the
    per-user secret file. Returns None when nothing is known (the connection will then be refused by a
    bandster name server, with an error naming this lookup).
    """
    if explicit:
        return explicit
    if os.environ.get(SECRET_ENV):
        return os.environ[SECRET_ENV]
    for alias in _loopback_aliases(host):
        with _local_lock:
            secret = _local_secrets.get((alias, int(port)))
        if secret:
            return secret
    for alias in _loopback_aliases(host):
        try:
            with open(_user_secret_path(alias, port)) as fh:
                record = json.load(fh)
            if isinstance(record, dict) and record.get("secret"):
                return str(record["secret"])
        except (OSError, ValueError):
            continue
    return None


class CredentialsError(RuntimeError):
    """No usable credentials file appeared in time: missing, incomplete, or stale (its name server is gone)."""


def describe_record(record: dict[str, Any]) -> str:
    """``'the name server at HOST:PORT (started <time> by pid P on NODE)'`` for messages."""
    started = record.get("started")
    when = (
        time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(started)) if isinstance(started, int | float) else "?"
    )
    return (
        f"the name server at {record.get('host')}:{record.get('port')} (started {when} by pid "
        f"{record.get('pid', '?')} on {record.get('hostname', '?')})"
    )


def nameserver_answers(record: dict[str, Any], timeout: float = 3.0) -> tuple[bool, str]:
    """Ping the name server ``record`` names, authenticating with its secret.

    Returns ``(True, '')`` if it answers, else ``(False, reason)``: nothing listens there any more (the
    master that wrote the record is gone), the host is unreachable, or another name server with another
    secret now has that port.
    """
    import Pyro5.errors

    from bandster.core.security import nameserver_proxy

    try:
        with nameserver_proxy(str(record["host"]), int(record["port"]), str(record["secret"]), timeout=timeout) as ns:
            ns.ping()
    except (Pyro5.errors.PyroError, OSError, ValueError, TypeError) as exc:
        return False, f"{type(exc).__name__}: {exc}"
    return True, ""


def write_credentials(directory: str, run_id: str, host: str, port: int, secret: str) -> str:
    """Write the shared credentials file (replacing any earlier one) and return its path.

    A file left by an earlier master of the same run_id is simply replaced; workers that read the old one
    find that its name server does not answer and wait for this one (see :func:`wait_for_credentials`).
    If the earlier name server still answers, two masters share a run_id and a directory: that is logged as
    a warning, since its workers will now move to the new one.
    """
    os.makedirs(directory, exist_ok=True)
    path = credentials_path(directory, run_id)
    old = read_credentials(path)
    if old is not None and old.get("secret") != secret:
        alive, _ = nameserver_answers(old, timeout=1.0)
        if alive:
            logger.warning(
                "%s belongs to %s, which is still running; replacing it: new workers of run %r will join the new "
                "name server. Use a different run_id or directory for concurrent runs.",
                path, describe_record(old), run_id,
            )
        else:
            logger.info("replacing the stale credentials file %s left by %s", path, describe_record(old))
    write_private_json(path, credentials_record(run_id, host, port, secret))
    return path


def read_credentials(path: str) -> dict[str, Any] | None:
    """The record in ``path``, or None if it is missing or not (yet) a complete record."""
    try:
        with open(path) as fh:
            record = json.load(fh)
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("format") != _FORMAT:
        return None
    if not all(k in record for k in ("host", "port", "secret")):
        return None
    return record


def _is_loopback(host: str) -> bool:
    return host in ("localhost", "::1") or str(host).startswith("127.")


def wait_for_credentials(
    directory: str,
    run_id: str,
    num_tries: int = 60,
    interval: float = 1.0,
    newer_than: float | None = None,
    verify: bool = True,
    check_timeout: float = 3.0,
) -> dict[str, Any]:
    """Wait for a usable shared credentials file of ``run_id`` in ``directory`` and return its record.

    Usable means: a complete bandster record, started at or after ``newer_than`` (if given), and, when
    ``verify`` (the default), naming a name server that answers a ping made with the record's secret. A file
    left by an earlier master of the same run_id that died is therefore never used: it is reported once in
    the log and the wait goes on until a new master replaces it.

    Waits at most about ``num_tries * interval`` seconds (a ping takes at most ``check_timeout`` s; the file
    may be on a network file system, so it is polled, every ``interval`` s).

    Raises
    ------
    CredentialsError
        (a RuntimeError) naming the path, how long it waited and what was wrong with the file: missing,
        incomplete, older than ``newer_than``, or stale (which name server, started when and where).
    """
    path = credentials_path(directory, run_id)
    tries = max(1, int(num_tries))
    interval = max(0.0, float(interval))
    start = time.monotonic()
    deadline = start + tries * interval
    problem = "missing"
    stale: dict[str, Any] | None = None
    reason = ""
    reported: tuple | None = None
    for attempt in range(tries):
        record = read_credentials(path)
        if record is None:
            problem = "incomplete" if os.path.exists(path) else "missing"
        elif newer_than is not None and not record.get("started", 0) >= newer_than:
            problem, stale = "old", record
        elif not verify:
            return record
        else:
            left = deadline - time.monotonic()
            alive, reason = nameserver_answers(record, timeout=max(0.5, min(check_timeout, left)))
            if alive:
                return record
            problem, stale = "stale", record
            key = (record.get("host"), record.get("port"), record.get("started"))
            if key != reported:
                reported = key
                logger.warning(
                    "%s names %s, which does not answer (%s): left by an earlier master of run %r? Waiting for a "
                    "new master to replace it.", path, describe_record(record), reason, run_id,
                )
        if attempt + 1 >= tries or time.monotonic() + interval > deadline + interval / 2:
            break
        time.sleep(interval)  # no inotify across hosts of a network file system: poll
    waited = time.monotonic() - start
    how_long = f"after waiting {waited:.0f} s ({tries} tries {interval:g} s apart)"
    if problem == "missing":
        message = (
            f"The name server credentials file {path} did not appear {how_long}. Start the master (it writes "
            f"this file) with run_id {run_id!r} and this shared directory, or wait longer (num_tries, or "
            "`bandster worker --wait`)."
        )
    elif problem == "incomplete":
        message = (
            f"The name server credentials file {path} is not a complete bandster credentials file {how_long} "
            "(HpBandSter's pickled HPB_run_*_pyro.pkl files are never read). Delete it and restart the master."
        )
    elif problem == "old":
        assert stale is not None
        message = (
            f"The name server credentials file {path} names {describe_record(stale)}, which started before "
            f"the time asked for; no newer master replaced it {how_long}."
        )
    else:
        assert stale is not None
        message = (
            f"The name server credentials file {path} is stale: it names {describe_record(stale)}, which does "
            f"not answer ({reason}), and no new master replaced it {how_long}. It was probably left by an earlier "
            f"master of run {run_id!r} that died; start the master again (it overwrites the file)."
        )
        if _is_loopback(str(stale.get("host"))) and stale.get("hostname") != socket.gethostname():
            message += (
                f" Note: that name server listens on the loopback address {stale.get('host')}, which only "
                f"processes on {stale.get('hostname')} can reach; give the master a network interface the "
                "workers can reach (nic_name='eth0', `--nic eth0`)."
            )
    raise CredentialsError(message)


def load_credentials(
    directory: str, run_id: str, num_tries: int = 60, interval: float = 1.0
) -> tuple[str, int, str]:
    """``(host, port, secret)`` of the live name server of ``run_id`` whose credentials are in ``directory``.

    For a master (or any client) in another process than the name server, e.g. one started with
    ``bandster nameserver --run-id RUN --dir DIR``; waits like :func:`wait_for_credentials`.

    Examples
    --------
    >>> from bandster.core.nameserver import NameServer
    >>> with NameServer(run_id='doc_creds', working_directory='.') as ns:
    ...     host, port, secret = load_credentials('.', 'doc_creds')
    ...     (host, port, secret) == (ns.host, ns.port, ns.secret)
    True
    """
    record = wait_for_credentials(directory, run_id, num_tries, interval)
    return str(record["host"]), int(record["port"]), str(record["secret"])
