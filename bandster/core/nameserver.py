"""The Pyro5 name server that workers and the dispatcher find each other through."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import socket
import threading

import netifaces

from bandster.core import credentials
from bandster.core.security import AuthNameServerDaemon, nameserver_proxy, new_secret

logger = logging.getLogger(__name__)

DEFAULT_PORT = 9090
_RUN_ID = re.compile(r"^[A-Za-z0-9_\-]+$")
_REGISTERED = re.compile(r"^bandster\.run_([A-Za-z0-9_\-]+)\.(dispatcher$|worker\.)")


def validate_run_id(run_id: object) -> str:
    """Return ``run_id`` as a string, or raise ValueError if the name server cannot take it."""
    text = str(run_id)
    if not _RUN_ID.match(text):
        raise ValueError(
            f"run_id {text!r} is not usable as a name-server name: use letters, digits, '_' and '-' only "
            "(for example run_id='mnist_1')"
        )
    return text


def known_runs(host: str, port: int, secret: str | None, timeout: float = 5.0) -> dict[str, dict[str, int]]:
    """The runs registered with the name server at ``host:port``: ``{run_id: {"dispatchers": 0 or 1,
    "workers": n}}`` (for messages that tell a worker or master with a mistyped run_id what exists).

    Raises :class:`Pyro5.errors.PyroError` when the name server cannot be asked.
    """
    with nameserver_proxy(host, port, secret, timeout=timeout) as ns:
        names = ns.list(prefix="bandster.run_")
    runs: dict[str, dict[str, int]] = {}
    for name in names:
        match = _REGISTERED.match(name)
        if match:
            entry = runs.setdefault(match.group(1), {"dispatchers": 0, "workers": 0})
            entry["dispatchers" if match.group(2) == "dispatcher" else "workers"] += 1
    return runs


def describe_runs(runs: dict[str, dict[str, int]]) -> str:
    """``known_runs``' answer in words: ``"run 'a' (a master, 2 workers), run 'b' (1 worker)"`` or ``"none"``."""
    parts = []
    for run_id, entry in sorted(runs.items()):
        what = (["a master"] if entry["dispatchers"] else []) + (
            [f"{entry['workers']} worker{'s' if entry['workers'] != 1 else ''}"] if entry["workers"] else [])
        parts.append(f"run {run_id!r} ({', '.join(what)})")
    return ", ".join(parts) or "none"


def nic_name_to_host(nic_name: str) -> str:
    """The IPv4 address of the network interface ``nic_name`` (e.g. ``'eth0'``, ``'ib0'``, ``'lo'``).

    Raises
    ------
    ValueError
        if there is no such interface, or it has no IPv4 address; the message lists the interfaces that
        exist with their addresses. (HpBandSter returned the string ``'No IP addr'`` instead.)

    Examples
    --------
    >>> nic_name_to_host('lo')
    '127.0.0.1'
    """
    interfaces = netifaces.interfaces()
    if nic_name not in interfaces:
        raise ValueError(f"There is no network interface {nic_name!r}. Interfaces here: {_describe(interfaces)}")
    addresses = netifaces.ifaddresses(nic_name).get(netifaces.AF_INET, [])
    for entry in addresses:
        if entry.get("addr"):
            return entry["addr"]
    raise ValueError(
        f"The network interface {nic_name!r} has no IPv4 address. Interfaces here: {_describe(interfaces)}"
    )


def _describe(interfaces: list[str]) -> str:
    parts = []
    for name in interfaces:
        addrs = [e.get("addr") for e in netifaces.ifaddresses(name).get(netifaces.AF_INET, []) if e.get("addr")]
        parts.append(f"{name} ({', '.join(addrs) if addrs else 'no IPv4 address'})")
    return ", ".join(parts) or "none"


def local_address_towards(host: str) -> str:
    """The local address this machine uses to reach ``host`` (no packet is sent)."""
    if host in ("localhost", "127.0.0.1") or host.startswith("127."):
        return "127.0.0.1"
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect((host, 9))
            return sock.getsockname()[0]
        except OSError:
            return "127.0.0.1"


class NameServer:
    """A Pyro5 name server running in a thread of this process.

    Parameters
    ----------
    run_id : str
        The run this name server is started for; names its credentials file.
    working_directory : str, optional
        If given, ``start()`` writes the credentials file (host, port, secret; JSON, mode 0600) there
        for workers on other machines (:meth:`bandster.core.worker.Worker.load_nameserver_credentials`).
    host : str, optional
        Address to bind. Default: the address of ``nic_name`` if given, else ``'127.0.0.1'`` (loopback).
    port : int or None
        0 (default) picks a free port; None means Pyro's default 9090, as in HpBandSter.
    nic_name : str, optional
        Network interface whose address to bind (see :func:`nic_name_to_host`).
    secret : str, optional
        The handshake secret; a fresh random one by default.

    Examples
    --------
    >>> ns = NameServer(run_id='doc')
    >>> host, port = ns.start()
    >>> host
    '127.0.0.1'
    >>> ns.shutdown()
    """

    def __init__(
        self,
        run_id: str,
        working_directory: str | None = None,
        host: str | None = None,
        port: int | None = 0,
        nic_name: str | None = None,
        secret: str | None = None,
    ) -> None:
        self.run_id = validate_run_id(run_id)
        self.dir = working_directory
        self.nic_name = nic_name
        self.host = host
        self.port = port
        self.secret = secret or new_secret()
        self.conf_fn: str | None = None
        self.pyro_ns: AuthNameServerDaemon | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> tuple[str, int]:
        """Start serving in a background thread; return ``(host, port)``."""
        with self._lock:
            if self.pyro_ns is not None:
                return self.host, self.port
            if self.host is None:
                self.host = nic_name_to_host(self.nic_name) if self.nic_name else "127.0.0.1"
            port = DEFAULT_PORT if self.port is None else int(self.port)
            try:
                daemon = AuthNameServerDaemon(host=self.host, port=port, secret=self.secret)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    raise OSError(
                        exc.errno,
                        f"Cannot start the name server on {self.host}:{port}: the port is in use "
                        "(another name server or program). Use port=0 for a free port.",
                    ) from exc
                raise
            self.pyro_ns = daemon
            self.port = daemon.locationStr and daemon.sock.getsockname()[1]
            self._thread = threading.Thread(
                target=daemon.requestLoop, name=f"bandster-nameserver-{self.run_id}", daemon=True
            )
            self._thread.start()
            credentials.register_local_secret(self.host, self.port, self.secret, self.run_id)
            if self.dir is not None:
                self.conf_fn = credentials.write_credentials(self.dir, self.run_id, self.host, self.port, self.secret)
            logger.info("name server for run %s listening on %s:%s", self.run_id, self.host, self.port)
            return self.host, self.port

    @property
    def running(self) -> bool:
        """True between :meth:`start` and :meth:`shutdown`."""
        return self.pyro_ns is not None

    def shutdown(self) -> None:
        """Stop serving, join the thread and remove this server's credentials file. Idempotent."""
        with self._lock:
            daemon, self.pyro_ns = self.pyro_ns, None
            if daemon is None:
                return
            credentials.forget_local_secret(self.host, self.port)
            if self.conf_fn is not None:
                record = credentials.read_credentials(self.conf_fn)
                if record is not None and record.get("secret") == self.secret:
                    with contextlib.suppress(OSError):
                        os.unlink(self.conf_fn)
            daemon.shutdown_completely(self._thread)
            logger.info("name server for run %s stopped", self.run_id)

    def __enter__(self) -> NameServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    def __del__(self) -> None:
        try:
            self.shutdown()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass
