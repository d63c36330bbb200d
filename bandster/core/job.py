"""The record of one evaluation: a configuration on a budget, sent to a worker."""

from __future__ import annotations

import time
from typing import Any

from bandster.records.format import as_id, id_to_json, stopped_step

__all__ = ["Job", "as_id", "id_to_json"]


class Job:
    """One evaluation of a configuration on a budget.

    Parameters
    ----------
    id : tuple or any
        The config id ``(iteration, stage_sampled, n)``; any other id is kept as given (a list becomes a
        tuple).
    **kwargs
        What the worker's ``compute`` receives: ``config``, ``budget``, ``working_directory``.

    Attributes
    ----------
    timestamps : dict
        ``submitted``, ``started`` and ``finished``, each ``time.time()`` on the master's clock.
    result : dict or None
        ``{'loss': float, 'info': ...}`` on success, ``None`` when the evaluation failed.
    exception : str or None
        The traceback or error text of a failed evaluation.
    worker_name : str or None
        The name of the worker that ran the job.
    attempt : int
        1 for the first try; incremented each time the job is re-queued after its worker died.
    """

    def __init__(self, id: tuple, **kwargs: Any) -> None:
        self.id = as_id(id)
        self.kwargs = kwargs
        self.timestamps: dict[str, float] = {}
        self.result: dict | None = None
        self.exception: str | None = None
        self.worker_name: str | None = None
        self.attempt = 1
        #: seconds the computation may take (``job_timeout``), None for no limit
        self.timeout: float | None = None
        #: ``time.monotonic()`` after which the dispatcher gives up on the job (set when it starts)
        self.deadline: float | None = None
        #: the steps of its learning curve at which the scheduler decides (None: any step may be one); handed
        #: to the worker so that it waits for the answer only there (see :class:`bandster.core.reporting.JobReporter`)
        self.decision_steps: list[float] | None = None
        #: the step of the report at which the job was told to stop (None while it may continue)
        self.stop_step: float | None = None
        #: the step of its latest report taken by the runner
        self.last_step: float | None = None
        #: ``Backend.cancel`` asked to stop it at its next report
        self.cancelled = False

    def time_it(self, which_time: str) -> None:
        """Stamp ``timestamps[which_time]`` with the current time."""
        self.timestamps[which_time] = time.time()

    @property
    def status(self) -> str:
        """``'stopped'`` when the scheduler stopped the job at an intermediate report (its result carries
        ``"stopped_at"``), else ``'ok'`` when the job returned a finite loss, ``'failed'`` otherwise."""
        from bandster.core._convert import is_finite_loss

        if stopped_step(self.result) is not None:
            return "stopped"
        if self.result is not None and is_finite_loss(self.result.get("loss")):
            return "ok"
        return "failed"

    def __repr__(self) -> str:
        return (
            f"Job(id={self.id}, budget={self.kwargs.get('budget')}, worker={self.worker_name}, "
            f"attempt={self.attempt}, result={self.result}, exception={self.exception!r})"
        )

    @classmethod
    def from_run(cls, run: Any, config: dict, time_shift: float = 0.0, config_id: tuple | None = None) -> Job:
        """A finished job rebuilt from a :class:`~bandster.records.result.Run` (warm starts, resume).

        ``time_shift`` is added to the run's time stamps (a Result's are relative to its ``time_ref``);
        ``config_id`` replaces the run's id (warm-start runs become ``(-1, 0, i)``).
        """
        job = cls(run.config_id if config_id is None else config_id, config=config, budget=run.budget)
        job.timestamps = {
            k: v + time_shift for k, v in (run.time_stamps or {}).items() if isinstance(v, int | float)
        }
        job.result = None if run.loss is None else {"loss": run.loss, "info": run.info}
        job.exception = run.error_logs
        job.worker_name = run.worker_name
        job.attempt = run.attempt or 1
        return job

    def recreate_from_run(self, run: Any) -> None:  # pragma: no cover - kept for API compatibility
        """Fill this job from a :class:`~bandster.records.result.Run` (HpBandSter's name; see :meth:`from_run`)."""
        other = Job.from_run(run, self.kwargs.get("config", {}), config_id=self.id)
        self.kwargs["budget"] = other.kwargs["budget"]
        self.timestamps, self.result, self.exception = other.timestamps, other.result, other.exception
