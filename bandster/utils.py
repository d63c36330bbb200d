"""HpBandSter's ``hpbandster.utils``: :func:`start_local_nameserver` and :func:`nic_name_to_host`.

Code written for HpBandSter imports these from here; new code can use
:class:`bandster.core.nameserver.NameServer` directly, which gives a handle to shut the name server down.
"""

from __future__ import annotations

import atexit
import threading

from bandster.core.nameserver import NameServer, nic_name_to_host

__all__ = ["nic_name_to_host", "start_local_nameserver", "stop_local_nameservers"]

_started: list[NameServer] = []
_lock = threading.Lock()


def start_local_nameserver(host: str | None = None, port: int = 0, nic_name: str | None = None) -> tuple[str, int]:
    """Start a name server in a background thread of this process and return its ``(host, port)``.

    As in HpBandSter, no handle is returned; the name server stops when the process exits (or at
    :func:`stop_local_nameservers`). Its secret is registered for this user, so workers and masters on this
    machine find it without being told.

    Parameters
    ----------
    host : str, optional
        Address to bind; default: the address of ``nic_name`` if given, else ``'127.0.0.1'``.
    port : int
        0 (default) picks a free port.
    nic_name : str, optional
        Network interface whose address to bind (see :func:`nic_name_to_host`).

    Examples
    --------
    >>> host, port = start_local_nameserver()
    >>> host
    '127.0.0.1'
    >>> stop_local_nameservers()
    """
    ns = NameServer(run_id="local", host=host, port=port, nic_name=nic_name)
    address = ns.start()
    with _lock:
        _started.append(ns)
    return address[0], int(address[1])


def stop_local_nameservers() -> None:
    """Shut down every name server :func:`start_local_nameserver` started (also done at exit)."""
    with _lock:
        servers, _started[:] = list(_started), []
    for ns in servers:
        ns.shutdown()


atexit.register(stop_local_nameservers)
