"""Where the runtime's parts find each other: name-server names, and the dispatchers living in this process.

Both the dispatcher and the workers need these; keeping them here (rather than in one of the two) lets
:mod:`bandster.core.dispatcher` and :mod:`bandster.core.worker` import each other's facts without importing
each other. For example:

>>> dispatcher_name("mnist"), worker_prefix("mnist")
('bandster.run_mnist.dispatcher', 'bandster.run_mnist.worker.')
>>> local_dispatcher("PYRO:bandster.run_mnist.dispatcher@127.0.0.1:1") is None
True
"""

from __future__ import annotations

import threading
from typing import Any

__all__ = ["dispatcher_name", "worker_prefix", "local_dispatcher", "register_local_dispatcher",
           "unregister_local_dispatcher"]

_local: dict[str, Any] = {}  # URI -> the Dispatcher serving it in this process
_local_lock = threading.Lock()  # guards _local


def dispatcher_name(run_id: str) -> str:
    """The name-server name of a run's dispatcher."""
    return f"bandster.run_{run_id}.dispatcher"


def worker_prefix(run_id: str) -> str:
    """The name-server prefix of a run's workers."""
    return f"bandster.run_{run_id}.worker."


def register_local_dispatcher(uri: str, dispatcher: Any) -> None:
    """Record that ``dispatcher`` serves ``uri`` in this process (thread workers then call it directly)."""
    with _local_lock:
        _local[str(uri)] = dispatcher


def unregister_local_dispatcher(uri: str | None) -> None:
    """Forget the dispatcher serving ``uri`` in this process (nothing when there is none)."""
    if uri:
        with _local_lock:
            _local.pop(str(uri), None)


def local_dispatcher(uri: str | None) -> Any:
    """The dispatcher serving ``uri`` if it lives in this process, else None."""
    with _local_lock:
        return _local.get(str(uri)) if uri else None
