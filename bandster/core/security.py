"""Pyro5 plumbing shared by every bandster daemon and proxy: serpent only, handshake secrets.

Every name server has a random secret. Every daemon bandster starts (name server, dispatcher, workers)
rejects a connection whose Pyro5 handshake does not carry it, and every proxy bandster makes sends it.
Nothing is ever unpickled: Pyro5 has no pickle serializer, and bandster pins ``serpent``.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import socket
import threading
from typing import Any

import Pyro5.api
import Pyro5.errors
import Pyro5.nameserver
import Pyro5.server

logger = logging.getLogger(__name__)

#: Pyro5 settings bandster relies on; applied once per process on import.
PYRO_SETTINGS = {
    "SERIALIZER": "serpent",
    # a normal call right after a oneway call takes ~43 ms without it, ~0.6 ms with it
    "SOCK_NODELAY": True,
    # the dispatcher holds one server thread per connected worker: leave room for large clusters
    "THREADPOOL_SIZE": 2048,
    "THREADPOOL_SIZE_MIN": 4,
}
for _key, _value in PYRO_SETTINGS.items():
    setattr(Pyro5.config, _key, _value)

HANDSHAKE_REJECTED = "bandster: handshake rejected (missing or wrong secret)"


def new_secret() -> str:
    """A fresh random secret (256 bits, URL-safe text)."""
    return secrets.token_urlsafe(32)


def _check(expected: str | None, data: Any) -> str:
    if expected is None:
        return "hello"
    if not isinstance(data, str) or not hmac.compare_digest(data.encode(), expected.encode()):
        raise Pyro5.errors.SecurityError(HANDSHAKE_REJECTED)
    return "ok"


class _ConnectionTracking:
    """Mixin: remember client connections and their server threads, so shutdown can end them all.

    Pyro5's thread pool leaves a server thread blocked on every connected client after the daemon shuts
    down; bandster closes those sockets so that no thread outlives ``shutdown()``.
    """

    _bandster_secret: str | None

    def _track_init(self, secret: str | None) -> None:
        self._bandster_secret = secret
        self._conn_lock = threading.Lock()
        self._connections: dict[Any, threading.Thread] = {}

    def validateHandshake(self, conn: Any, data: Any) -> str:  # noqa: N802 - Pyro5's name
        response = _check(self._bandster_secret, data)
        with self._conn_lock:
            self._connections[conn] = threading.current_thread()
        return response

    def clientDisconnect(self, conn: Any) -> None:  # noqa: N802 - Pyro5's name
        with self._conn_lock:
            self._connections.pop(conn, None)

    def shutdown_completely(self, loop_thread: threading.Thread | None = None, timeout: float = 5.0) -> None:
        """Stop the request loop, close every client connection and join the threads serving them."""
        self.shutdown()  # type: ignore[attr-defined]
        if loop_thread is not None and loop_thread is not threading.current_thread():
            loop_thread.join(timeout)
        with self._conn_lock:
            connections = list(self._connections.items())
        for conn, _thread in connections:
            try:
                conn.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        me = threading.current_thread()
        for _conn, thread in connections:
            if thread is not me:
                thread.join(timeout)
        self.close()  # type: ignore[attr-defined]


class AuthDaemon(_ConnectionTracking, Pyro5.server.Daemon):
    """A Pyro5 daemon that only accepts clients whose handshake carries ``secret``."""

    def __init__(self, *args: Any, secret: str | None = None, **kwargs: Any) -> None:
        self._track_init(secret)
        super().__init__(*args, **kwargs)


class AuthNameServerDaemon(_ConnectionTracking, Pyro5.nameserver.NameServerDaemon):
    """Pyro5's name server daemon, protected by the same handshake secret."""

    def __init__(self, *args: Any, secret: str | None = None, **kwargs: Any) -> None:
        self._track_init(secret)
        super().__init__(*args, **kwargs)


def make_proxy(uri: Any, secret: str | None, timeout: float | None = None) -> Pyro5.api.Proxy:
    """A proxy for ``uri`` that authenticates with ``secret`` (``timeout`` in seconds, None = none)."""
    proxy = Pyro5.api.Proxy(uri)
    if secret is not None:
        proxy._pyroHandshake = secret
    if timeout is not None:
        proxy._pyroTimeout = timeout
    return proxy


def nameserver_proxy(host: str, port: int, secret: str | None, timeout: float | None = 10.0) -> Pyro5.api.Proxy:
    """A proxy for the name server at ``host:port``; never broadcasts."""
    uri = f"PYRO:{Pyro5.core.NAMESERVER_NAME}@{format_host(host)}:{int(port)}"
    return make_proxy(uri, secret, timeout)


def format_host(host: str) -> str:
    """``host`` as it goes into a Pyro URI (IPv6 addresses in brackets)."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


class ThreadLocalProxies:
    """One proxy per (thread, uri): Pyro5 proxies belong to the thread that created them."""

    def __init__(self, secret: str | None, timeout: float | None = None) -> None:
        self._secret = secret
        self._timeout = timeout
        self._local = threading.local()

    def get(self, uri: str) -> Pyro5.api.Proxy:
        cache = self._local.__dict__.setdefault("proxies", {})
        proxy = cache.get(uri)
        if proxy is None:
            proxy = cache[uri] = make_proxy(uri, self._secret, self._timeout)
        return proxy

    def drop(self, uri: str) -> None:
        cache = self._local.__dict__.get("proxies", {})
        proxy = cache.pop(uri, None)
        if proxy is not None:
            proxy._pyroRelease()
