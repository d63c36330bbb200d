"""The scheduler interface: what runs next, and what to do with what happened.

A scheduler is pure: no threads, no network, no journal. A runner (:class:`bandster.runtime.runner.Runner`) or the
user (through :meth:`Scheduler.ask` / :meth:`Scheduler.tell`) drives it; every decision is a return value.
"""

from __future__ import annotations

import abc
import dataclasses
import enum
import math
from collections.abc import Callable, Iterable
from typing import Any

from bandster.core.job import Job

__all__ = ["Decision", "JobRequest", "Scheduler"]


class Decision(str, enum.Enum):
    """What the runner does with a job after one of its intermediate reports."""

    CONTINUE = "continue"
    STOP = "stop"
    PAUSE = "pause"


@dataclasses.dataclass(frozen=True)
class JobRequest:
    """One evaluation a scheduler asks for.

    Attributes
    ----------
    config_id : tuple
        ``(iteration, stage_sampled, n)``, HpBandSter's config id.
    config : dict
        The configuration (builtins).
    budget : float
        The budget the evaluation ends at.
    config_info : dict
        How the configuration was chosen (journaled with it the first time it runs).
    previous_budget : float or None
        The largest smaller budget this configuration already finished on (its checkpoint's budget).
    checkpoint_from : tuple or None
        The config id whose checkpoint directory is copied into this configuration's before it starts (PBT's
        exploit step); None: the configuration continues from its own directory.
    attempt : int
        1 for a first try; larger when the job is run again (resume, lost worker).
    """

    config_id: tuple
    config: dict
    budget: float
    config_info: dict = dataclasses.field(default_factory=dict)
    previous_budget: float | None = None
    checkpoint_from: tuple | None = None
    attempt: int = 1


def positive_number(name: str, value: Any) -> float:
    """``value`` as a float if it is a positive number, else a ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0 or math.isnan(value):
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return float(value)


def positive_int(name: str, value: Any, allow_none: bool = True) -> int | None:
    """``value`` if it is an integer >= 1 (or None when allowed), else a ValueError naming ``name``."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1{' or None' if allow_none else ''}, got {value!r}")
    return value


class Scheduler(abc.ABC):
    """Decides which evaluation runs next and answers what happened to each.

    The runner calls, all from one thread at a time (it holds its lock):

    * :meth:`grant` at each ``run()`` call: how much work this call may start;
    * :meth:`next_job` whenever a worker can take a job: a :class:`JobRequest`, or None for "nothing now" (waiting
      for results, or the grant is used up);
    * :meth:`on_result` with every finished job (failed ones included: ``job.result`` None or a non-finite loss);
    * :meth:`on_report` with every intermediate report of a running job; it returns a :class:`Decision`;
    * :meth:`is_done`: True once the scheduler will produce no job under the current grant and waits for none;
    * :meth:`replay` on ``resume=True``, with the journal read back; :meth:`manifest` for the journal's run.json.

    Proposals of new configurations come from :meth:`sample_config`: the initial design (``points_to_evaluate``)
    first, then the sampler (a config generator: random sampling, BOHB's model, ...). Every finished job is fed
    to the sampler.

    Parameters
    ----------
    sampler : base_config_generator
        Proposes configurations: ``get_config(budget) -> (config, info)``, ``new_result(job)``.
    initial_design : InitialDesign, optional
        Configurations evaluated before any sampled one.
    """

    #: True when a job is charged its full budget at start and given back what it did not consume when it ends
    #: (stopping-type schedulers: see :meth:`consumed_budget`); the runner's ``max_budget_spent`` then waits for
    #: running jobs to end before it declares the limit reached.
    refunds_budget: bool = False

    def __init__(self, sampler: Any, initial_design: Any = None) -> None:
        self.sampler = sampler
        self.initial_design = initial_design
        self._events: list[tuple[str, dict[str, Any]]] = []
        self._asked: dict[tuple[tuple, float], JobRequest] = {}

    # ------------------------------------------------------------------ to implement
    @abc.abstractmethod
    def grant(self, n_iterations: int, max_configs: int | None = None) -> dict[str, Any]:
        """Allow the work of one ``run(n_iterations, max_configs=...)`` call; return facts for the journal."""

    @abc.abstractmethod
    def next_job(self) -> JobRequest | None:
        """The next evaluation to start, or None if there is none for now."""

    @abc.abstractmethod
    def on_result(self, job: Job) -> None:
        """Take the outcome of a finished job (its iteration, its rung, the sampler)."""

    @abc.abstractmethod
    def is_done(self) -> bool:
        """True when no job will be produced under the current grant and none is awaited."""

    @abc.abstractmethod
    def replay(self, result: Any, attempts: Any) -> tuple[list[JobRequest], dict[str, int]]:
        """Rebuild the state from a journal read back (``resume=True``).

        Parameters
        ----------
        result : Result
            The journal read back; ``result.get_reports()`` holds the intermediate reports the runner accepted,
            with the decisions it got, in the order it took them (a stopping scheduler records them again).
        attempts : collections.Counter
            How often each ``(config_id, budget)`` was dispatched.

        Returns
        -------
        requeued : list of JobRequest
            Jobs without a recorded result, to run first (their attempt counted from the dispatches).
        counts : dict
            ``iterations``, ``runs``, ``requeued`` (and, for schedulers that use reports, ``reports``: how many
            were recorded again) for the journal.
        """

    @abc.abstractmethod
    def manifest(self) -> dict[str, Any]:
        """What run.json records about this scheduler (its class and settings)."""

    # ------------------------------------------------------------------ optional
    def on_report(self, job: Job, step: float, loss: float, info: Any = None) -> Decision:
        """An intermediate value of a running job; the default lets every job continue."""
        return Decision.CONTINUE

    def decision_steps(self, job: Job) -> list[float] | None:
        """The steps of ``job``'s learning curve at which :meth:`on_report` may stop it: a report that reaches one
        waits for the answer, the others may be batched by the worker. None (the default for a scheduler that
        overrides :meth:`on_report`) means any step; ``[]`` (the default otherwise) means none."""
        if type(self).on_report is Scheduler.on_report:
            return []
        return None

    def add_grant(self, n_iterations: int, max_configs: int | None = None) -> int:
        """Check the arguments of :meth:`grant` and add ``n_iterations`` to ``granted_iterations``; after
        :meth:`replay` the first grant counts the run's total instead (set ``resumed = True`` in ``replay``).
        Returns the iterations granted in total."""
        positive_int("n_iterations", n_iterations, allow_none=False)
        positive_int("max_configs", max_configs)
        if getattr(self, "resumed", False):
            self.resumed = False
            self.granted_iterations = n_iterations
        else:
            self.granted_iterations = getattr(self, "granted_iterations", 0) + n_iterations
        return self.granted_iterations

    def consumed_budget(self, job: Job) -> float:
        """The budget a finished job consumed (default: its full budget; a stopping scheduler: the step it was
        stopped at)."""
        return float(job.kwargs.get("budget") or 0.0)

    def end_grant(self) -> None:  # noqa: B027 - optional hook: most schedulers keep nothing per grant
        """A limit was reached or the user interrupted: no further work of the current grant starts."""

    @property
    def num_iterations(self) -> int:
        """How many iterations (brackets) the scheduler has started."""
        return 0

    def planned_runs(self, n_iterations: int) -> int | None:
        """How many runs the next ``grant(n_iterations)`` will make, if known (for progress bars)."""
        return None

    def pop_events(self) -> list[tuple[str, dict[str, Any]]]:
        """Facts the scheduler wants journaled (e.g. ``iteration_started``), oldest first; emptied."""
        events, self._events = self._events, []
        return events

    # ------------------------------------------------------------------ shared helpers
    def sample_config(self, budget: float) -> tuple[dict, dict]:
        """A new configuration for ``budget``: the initial design first, then the sampler."""
        if self.initial_design is not None:
            config = self.initial_design.pop()
            if config is not None:
                return config, {"model_based_pick": False, "initial_design": True}
        return self.sampler.get_config(budget)

    def skip_initial_design(self, infos: Iterable[Any]) -> None:
        """On resume: the initial-design points already handed out (``config_info["initial_design"]``) are
        not handed out again."""
        used = sum(1 for info in infos if isinstance(info, dict) and info.get("initial_design"))
        for _ in range(used):
            if self.initial_design is None or self.initial_design.pop() is None:
                break

    def feed_sampler(self, job: Job, update_model: bool = True) -> None:
        """Give a finished job to the sampler."""
        self.sampler.new_result(job, update_model=update_model)

    def _event(self, kind: str, **fields: Any) -> None:
        self._events.append((kind, fields))

    # ------------------------------------------------------------------ ask and tell
    def ask(self) -> JobRequest:
        """The next evaluation to run yourself (no runner, no backend); see :meth:`tell`.

        The first call grants one iteration's worth of work (see :meth:`grant`) if nothing was granted.

        Raises
        ------
        RuntimeError
            When nothing can be proposed now: tell the outstanding results first, or grant more work.
        """
        request = self.next_job()
        if request is None and not self._asked and self.is_done():
            self.grant(1)
            request = self.next_job()
        if request is None:
            raise RuntimeError(
                f"{type(self).__name__}.ask(): nothing to evaluate now; {len(self._asked)} asked evaluations "
                "await tell() (a stage of successive halving waits for all of its results), or the granted work "
                "is done: call grant(n_iterations) for more"
            )
        self._asked[(request.config_id, float(request.budget))] = request
        return request

    def tell(self, request: JobRequest, result: Any, exception: str | None = None) -> None:
        """The outcome of an evaluation handed out by :meth:`ask`.

        Parameters
        ----------
        request : JobRequest
            What :meth:`ask` returned.
        result : float or dict or None
            The loss, or ``{"loss": float, "info": ...}`` as ``compute`` returns it; None for a failure.
        exception : str, optional
            Why the evaluation failed.
        """
        key = (tuple(request.config_id), float(request.budget))
        if self._asked.pop(key, None) is None:
            raise ValueError(f"tell(): {key[0]} on budget {key[1]:g} was not handed out by ask() or was told already")
        job = job_from_request(request)
        if result is not None and not isinstance(result, dict):
            result = {"loss": result, "info": {}}
        job.result = result
        job.exception = exception
        self.on_result(job)


def job_from_request(request: JobRequest, **kwargs: Any) -> Job:
    """A :class:`Job` for ``request`` (``kwargs`` are added to what ``compute`` receives)."""
    job = Job(request.config_id, config=request.config, budget=float(request.budget), **kwargs)
    job.attempt = request.attempt
    return job


ConfigSampler = Callable[[float], tuple[dict, dict]]
