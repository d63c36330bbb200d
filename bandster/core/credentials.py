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


def write_credentials(directory: str, run_id: str, host: str, port: int, secret: str) -> str:
    """Write the shared credentials file (replacing a stale one) and return its path."""
    os.makedirs(directory, exist_ok=True)
    path = credentials_path(directory, run_id)
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


def wait_for_credentials(
    directory: str, run_id: str, num_tries: int = 60, interval: float = 1.0, newer_than: float | None = None
) -> dict[str, Any]:
    """Wait until the shared credentials file of ``run_id`` exists (at most ``num_tries * interval`` s).

    Raises
    ------
    RuntimeError
        naming the path and the time waited, if no (fresh enough) file appeared.
    """
    path = credentials_path(directory, run_id)
    for attempt in range(max(1, int(num_tries))):
        record = read_credentials(path)
        if record is not None and (newer_than is None or record.get("started", 0) >= newer_than):
            return record
        if attempt + 1 < num_tries:
            time.sleep(interval)  # the file may be on a network file system: no inotify across hosts
    raise RuntimeError(
        f"Could not find the name server credentials file {path} after {num_tries} tries "
        f"{interval} s apart. Start the master (it writes this file) with the same --run_id and "
        "--shared_directory, or raise num_tries."
    )
