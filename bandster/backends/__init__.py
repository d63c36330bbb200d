"""Backends execute jobs for a runner: bandster's Pyro5 runtime, thread and process
workers on this machine, a Dask cluster, a simulated one with a virtual clock.

Each is a :class:`Backend`; every optimizer takes ``backend=``.
"""

from bandster.backends._base import Backend, BackendListener

__all__ = ["Backend", "BackendListener", "DaskBackend", "ProcessBackend", "PyroBackend", "SimulatedBackend",
           "ThreadBackend"]


def __getattr__(name: str):  # the Pyro runtime is imported only when it is used
    if name == "PyroBackend":
        from bandster.backends.pyro import PyroBackend

        return PyroBackend
    if name == "SimulatedBackend":
        from bandster.backends.simulated import SimulatedBackend

        return SimulatedBackend
    if name == "ThreadBackend":
        from bandster.backends.threads import ThreadBackend

        return ThreadBackend
    if name == "ProcessBackend":
        from bandster.backends.processes import ProcessBackend

        return ProcessBackend
    if name == "DaskBackend":
        from bandster.backends.dask import DaskBackend

        return DaskBackend
    raise AttributeError(f"module 'bandster.backends' has no attribute {name!r}")
