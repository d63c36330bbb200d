"""``bandster.optimize(objective, configspace, ...)``: optimize a plain function, no Worker class, no name server.

The function API builds what the HpBandSter-style API asks the user to wire: an optimizer, a backend (threads,
processes, or bandster's Pyro runtime with a name server and workers started for the call) and the shutdown.
The run is the same as with the class API: the same journal, :class:`~bandster.records.result.Result`,
``bandster status``/``report`` and ``resume=True``.
"""

from __future__ import annotations

import logging
import numbers
from collections.abc import Callable, Mapping
from typing import Any

from bandster.backends._base import Backend
from bandster.backends._pool import Objective
from bandster.core.reporting import Reporter, check_report, current_reporter, reporting_to

logger = logging.getLogger(__name__)

__all__ = ["MetricObjective", "optimize"]

#: the optimizers by their names (any case)
OPTIMIZERS = ("RandomSearch", "HyperBand", "BOHB", "ASHA", "AsyncHyperBand", "AsyncBOHB")
BACKENDS = ("threads", "processes", "pyro")
#: ``n_iterations`` when only other limits are given: they end the run first
UNLIMITED_ITERATIONS = 10_000


class NegatedReporter(Reporter):
    """Passes reports on with the loss negated (``mode="max"``: the objective reports the metric it maximises)."""

    def __init__(self, reporter: Reporter) -> None:
        self.reporter = reporter

    def report(self, step: float, loss: float, info: Any = None) -> bool:
        step, loss, info = check_report(step, loss, info)
        return self.reporter.report(step, -loss, info)

    def should_stop(self) -> bool:
        return self.reporter.should_stop()


class MetricObjective:
    """A user's objective turned into a worker's ``compute``: a float or a dict holding ``metric`` becomes
    ``{'loss': ..., 'info': ...}``, negated when ``mode="max"`` (bandster minimises ``loss``).

    ``info`` holds the metric as returned (under its name) and the dict's other entries, so the journal and the
    Result keep the value the user sees. Anything else (None, a string, a dict without the metric) raises a
    TypeError or KeyError saying what was returned and what to return; the run is recorded as failed with it.
    Picklable with cloudpickle (the process backend sends it to its children). With ``mode="max"`` the values the
    objective reports (its ``report`` argument, see :func:`bandster.core.reporting.reporting_arguments`) are
    negated as well.
    """

    def __init__(self, function: Callable[..., Any], metric: str = "loss", mode: str = "min") -> None:
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        if not isinstance(metric, str) or not metric:
            raise ValueError(f"metric must be a non-empty string (a key of the objective's dict), got {metric!r}")
        self.objective = function if isinstance(function, Objective) else Objective(function)
        self.metric = metric
        self.mode = mode

    def __call__(self, **kwargs: Any) -> dict[str, Any]:
        if self.mode == "max":  # reports are of the metric too: bandster minimises their negation
            with reporting_to(NegatedReporter(current_reporter())):
                value = self.objective(**kwargs)
        else:
            value = self.objective(**kwargs)
        return self.to_result(value)

    def to_result(self, value: Any) -> dict[str, Any]:
        """``{'loss', 'info'}`` from what the objective returned (see the class)."""
        if isinstance(value, Mapping):
            if self.metric not in value:
                raise KeyError(f"the objective returned a dict without {self.metric!r} (keys: "
                               f"{sorted(map(str, value))}); return a dict holding the metric {self.metric!r} "
                               "or a float")
            measured = value[self.metric]
            given = value.get("info")
            info = dict(given) if isinstance(given, Mapping) else ({} if given is None else {"info": given})
            for key, item in value.items():
                if key != "info" and not (key == "loss" == self.metric and self.mode == "min"):
                    info.setdefault(str(key), item)
        elif isinstance(value, numbers.Real) and not isinstance(value, bool):
            measured, info = value, {}
        else:
            text = repr(value)
            text = text if len(text) <= 80 else text[:77] + "..."
            raise TypeError(f"the objective returned {type(value).__name__} ({text}); return a float (the "
                            f"{self.metric} to {'maximise' if self.mode == 'max' else 'minimise'}) or a dict "
                            f"holding {self.metric!r}")
        if not isinstance(measured, numbers.Real) or isinstance(measured, bool):
            try:
                measured = float(measured)  # numpy scalars, 0-d arrays
            except (TypeError, ValueError):
                raise TypeError(f"the objective's {self.metric!r} is {type(measured).__name__} ({measured!r}), "
                                "not a number") from None
        if self.metric != "loss" or self.mode == "max":
            info.setdefault(self.metric, float(measured))
        loss = -float(measured) if self.mode == "max" else float(measured)
        return {"loss": loss, "info": info}

    def describe(self) -> str:
        return self.objective.describe()


def _configspace(configspace: Any, seed: int | None) -> Any:
    import ConfigSpace as CS

    if isinstance(configspace, CS.ConfigurationSpace):
        return configspace
    if isinstance(configspace, Mapping):
        try:
            return CS.ConfigurationSpace(dict(configspace), seed=seed)
        except Exception as exc:
            raise ValueError(f"configspace: ConfigSpace does not accept this dict ({exc}); give each "
                             "hyperparameter a (low, high) tuple, a list of choices, a constant or a ConfigSpace "
                             "hyperparameter such as ConfigSpace.Float('lr', (1e-5, 1e-1), log=True)") from exc
    raise TypeError(f"configspace must be a ConfigSpace.ConfigurationSpace or a dict, got "
                    f"{type(configspace).__name__}")


def _optimizer_class(optimizer: Any) -> type:
    from bandster import optimizers
    from bandster.core.master import Master

    if isinstance(optimizer, type) and issubclass(optimizer, Master):
        return optimizer
    if isinstance(optimizer, str):
        for name in OPTIMIZERS:
            if name.lower() == optimizer.lower():
                return getattr(optimizers, name)
    raise ValueError(f"optimizer must be one of {list(OPTIMIZERS)} (or an optimizer class), got {optimizer!r}")


def _backend(backend: Any, n_workers: int, objective: MetricObjective, max_attempts: int) -> Backend | str:
    """The backend object, or ``"pyro"`` (started by :func:`optimize` around the optimizer)."""
    if isinstance(backend, Backend):
        return backend
    if isinstance(backend, str):
        if backend == "threads":
            from bandster.backends.threads import ThreadBackend

            return ThreadBackend(n_workers, objective, max_attempts=max_attempts)
        if backend == "processes":
            from bandster.backends.processes import ProcessBackend

            return ProcessBackend(n_workers, objective, max_attempts=max_attempts)
        if backend == "pyro":
            return backend
        raise ValueError(f"backend must be one of {list(BACKENDS)}, a distributed.Client or a "
                         f"bandster.backends.Backend, got {backend!r}")
    if type(backend).__module__.startswith("distributed"):
        raise NotImplementedError(
            "backend=distributed.Client needs bandster.backends.DaskBackend, which this version of bandster does "
            "not have yet; use backend='processes' on one machine, or bandster's own workers (backend='pyro', "
            "docs/cluster.md) on a cluster")
    raise TypeError(f"backend must be one of {list(BACKENDS)} or a bandster.backends.Backend, got "
                    f"{type(backend).__name__}")


class _PyroRun:
    """A name server on loopback and ``n_workers`` thread workers serving ``objective`` for one call."""

    def __init__(self, run_id: str, working_directory: str, n_workers: int, objective: MetricObjective) -> None:
        from bandster.core.nameserver import NameServer
        from bandster.core.worker import Worker

        class FunctionWorker(Worker):
            def compute(self, **kwargs: Any) -> dict:
                return objective(**kwargs)

        self.nameserver = NameServer(run_id=run_id, host="127.0.0.1", working_directory=working_directory)
        self.host, self.port = self.nameserver.start()
        self.workers = []
        try:
            for i in range(n_workers):
                worker = FunctionWorker(run_id=run_id, nameserver=self.host, nameserver_port=self.port, id=i)
                worker.run(background=True)
                self.workers.append(worker)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        for worker in self.workers:
            worker.shutdown()
        self.nameserver.shutdown()


def optimize(
    objective: Callable[..., Any],
    configspace: Any,
    optimizer: Any = "BOHB",
    *,
    min_budget: float,
    max_budget: float,
    n_iterations: int | None = None,
    max_wallclock_time: float | None = None,
    max_budget_spent: float | None = None,
    max_configs: int | None = None,
    n_workers: int = 1,
    backend: Any = "threads",
    seed: int | None = None,
    working_directory: str = ".",
    metric: str = "loss",
    mode: str = "min",
    **optimizer_kwargs: Any,
) -> Any:
    """Optimize ``objective`` over ``configspace`` and return the run's :class:`~bandster.records.result.Result`.

    Parameters
    ----------
    objective : callable
        ``objective(config, budget, **kwargs)`` returning a float or a dict holding ``metric``. It also
        receives ``config_directory`` (the configuration's own directory, for checkpoints), ``previous_budget``,
        ``config_id`` and ``working_directory`` when its signature names them (or takes ``**kwargs``).
    configspace : ConfigSpace.ConfigurationSpace or dict
        A dict is passed to ``ConfigSpace.ConfigurationSpace``: ``{"lr": (1e-5, 1e-1), "opt": ["adam", "sgd"]}``;
        for a log scale use ``ConfigSpace.Float("lr", (1e-5, 1e-1), log=True)`` as a value.
    optimizer : str or class
        ``"BOHB"`` (default), ``"HyperBand"``, ``"RandomSearch"``, ``"ASHA"``, ``"AsyncHyperBand"``,
        ``"AsyncBOHB"`` (any case), or an optimizer class.
    min_budget, max_budget : float
        The budget range (epochs, samples, seconds, ...).
    n_iterations, max_wallclock_time, max_budget_spent, max_configs
        Limits, as for ``run()``; at least one is required. ``n_iterations`` counts brackets (the
        asynchronous optimizers: the budget of that many HyperBand brackets).
    n_workers : int
        How many evaluations run at once.
    backend : str or Backend
        ``"threads"`` (default: this process), ``"processes"`` (child processes; the objective is sent with
        cloudpickle), ``"pyro"`` (a name server on loopback and thread workers started for the call, i.e. the
        class API's runtime), or a :class:`~bandster.backends.Backend` built for this objective (it then
        computes whatever it was built with; ``metric``/``mode`` apply only to the backends built here).
    seed : int, optional
        Seeds the optimizer (and a dict space).
    working_directory : str
        The journal goes to ``<working_directory>/bandster_runs/``.
    metric : str
        The key of the objective's dict to optimize (a float return is that metric).
    mode : str
        ``"min"`` or ``"max"``. With ``"max"`` bandster minimises the negated metric: the Result's and the
        journal's ``loss`` is ``-metric`` and each run's ``info[metric]`` holds the value as returned.
    **optimizer_kwargs
        Passed to the optimizer (``eta``, ``job_timeout``, ``resume``, ``run_id`` (default
        ``"optimize"``), ``max_attempts``, ...); ``progress`` is passed to ``run()``.

    Returns
    -------
    Result

    Examples
    --------
    >>> import bandster
    >>> def objective(config, budget):
    ...     return (config["x"] - 0.3) ** 2 + 1 / budget
    >>> result = bandster.optimize(objective, {"x": (0.0, 1.0)}, "HyperBand", min_budget=1, max_budget=9,
    ...                            n_iterations=1, seed=0, working_directory="optimize_doc", progress=False)
    >>> len(result.get_all_runs())
    13
    """
    if all(limit is None for limit in (n_iterations, max_wallclock_time, max_budget_spent, max_configs)):
        raise ValueError("optimize() needs at least one limit: n_iterations, max_wallclock_time, "
                         "max_budget_spent or max_configs (e.g. n_iterations=4)")
    cls = _optimizer_class(optimizer)
    space = _configspace(configspace, seed)
    run_id = optimizer_kwargs.pop("run_id", "optimize")
    progress = optimizer_kwargs.pop("progress", None)
    max_attempts = optimizer_kwargs.get("max_attempts", 3)
    function = MetricObjective(objective, metric, mode)
    made = _backend(backend, n_workers, function, max_attempts)
    pyro = None
    if made == "pyro":
        pyro = _PyroRun(run_id, working_directory, n_workers, function)
        optimizer_kwargs.update(nameserver=pyro.host, nameserver_port=pyro.port)
    else:
        optimizer_kwargs["backend"] = made
    try:
        opt = cls(configspace=space, run_id=run_id, min_budget=min_budget, max_budget=max_budget, seed=seed,
                  working_directory=working_directory, **optimizer_kwargs)
    except BaseException:
        if pyro is not None:
            pyro.close()
        elif made is not backend:
            made.shutdown()
        raise
    try:
        opt.runner.event("objective", metric=metric, mode=mode, objective=function.describe(),
                         backend=backend if isinstance(backend, str) else type(backend).__name__)
        return opt.run(n_iterations=UNLIMITED_ITERATIONS if n_iterations is None else n_iterations,
                       min_n_workers=n_workers if pyro is not None else 1, progress=progress,
                       max_wallclock_time=max_wallclock_time, max_budget_spent=max_budget_spent,
                       max_configs=max_configs)
    finally:
        opt.shutdown(shutdown_workers=pyro is not None)
        if pyro is not None:
            pyro.close()
