"""Schedulers decide what runs next and answer what happened; they hold no threads and touch no network.

A :class:`~bandster.runtime.runner.Runner` drives one over a backend, or you drive one yourself with
:meth:`Scheduler.ask` and :meth:`Scheduler.tell`.
"""

from bandster.schedulers._base import Decision, JobRequest, Scheduler
from bandster.schedulers.asha import AsyncBracketScheduler
from bandster.schedulers.hyperband import HyperbandScheduler, IterationScheduler, RandomSearchScheduler
from bandster.schedulers.median_stopping import MedianStoppingScheduler
from bandster.schedulers.pasha import PASHAScheduler
from bandster.schedulers.pbt import PBTScheduler
from bandster.schedulers.stopping import EarlyStoppingScheduler, StoppingASHAScheduler

__all__ = [
    "AsyncBracketScheduler",
    "Decision",
    "EarlyStoppingScheduler",
    "HyperbandScheduler",
    "IterationScheduler",
    "JobRequest",
    "MedianStoppingScheduler",
    "PASHAScheduler",
    "PBTScheduler",
    "RandomSearchScheduler",
    "Scheduler",
    "StoppingASHAScheduler",
]
