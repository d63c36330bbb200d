"""The record of one evaluation: a configuration on a budget, sent to a worker."""

from __future__ import annotations

import time
from typing import Any


class Job:
    """One evaluation of a configuration on a budget.

    Parameters
    ----------
    id : tuple
        The config id ``(iteration, stage_sampled, n)``.
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
        self.id = tuple(id)
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

    def time_it(self, which_time: str) -> None:
        """Stamp ``timestamps[which_time]`` with the current time."""
        self.timestamps[which_time] = time.time()

    @property
    def status(self) -> str:
        """``'ok'`` when the job returned a finite loss, ``'failed'`` otherwise."""
        from bandster.core._convert import is_finite_loss

        if self.result is not None and is_finite_loss(self.result.get("loss")):
            return "ok"
        return "failed"

    def __repr__(self) -> str:
        return (
            f"Job(id={self.id}, budget={self.kwargs.get('budget')}, worker={self.worker_name}, "
            f"attempt={self.attempt}, result={self.result}, exception={self.exception!r})"
        )

    def recreate_from_run(self, run: Any) -> None:  # pragma: no cover - kept for API compatibility
        """Fill this job from a :class:`~bandster.core.result.Run` (used by warm starts)."""
        self.kwargs["budget"] = run.budget
        self.timestamps = dict(run.time_stamps or {})
        self.result = None if run.loss is None else {"loss": run.loss, "info": run.info}
        self.exception = run.error_logs
