"""Schedulers decide what runs next and answer what happened; they hold no threads and touch no network.

A :class:`~bandster.runtime.runner.Runner` drives one over a backend, or you drive one yourself with
:meth:`Scheduler.ask` and :meth:`Scheduler.tell`.
"""

from bandster.schedulers._base import Decision, JobRequest, Scheduler
from bandster.schedulers.asha import AsyncBracketScheduler
from bandster.schedulers.hyperband import HyperbandScheduler, IterationScheduler, RandomSearchScheduler

__all__ = [
    "AsyncBracketScheduler",
    "Decision",
    "HyperbandScheduler",
    "IterationScheduler",
    "JobRequest",
    "RandomSearchScheduler",
    "Scheduler",
]
