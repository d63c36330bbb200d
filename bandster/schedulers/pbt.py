"""Population Based Training (Jaderberg et al. 2017): a population trained in intervals, exploit and explore.

Pure (no threads, no network): :func:`quantiles` (who exploits whom), :func:`make_mutations` and :func:`explore`
(how a copied configuration changes), and :class:`PBTScheduler`, the :class:`~bandster.schedulers.Scheduler` the
runner drives (:class:`bandster.optimizers.PBT` is its facade; docs/pbt.md explains the rules).

Members and config ids
----------------------
Members are numbered ``0 .. population_size - 1``. A member's training is a chain of *generations*; each
generation is one configuration with its own config id ``(member, 0, generation)`` and hence its own checkpoint
directory. A member moves to a new generation when it

* **exploits** (kind ``"exploit"``): it takes a copy of a top member's frozen checkpoint and an explored copy of
  its configuration;
* is **replaced** after a failed job (kind ``"replace"``): an exploit regardless of its rank;
* **continues** into a fresh directory (kind ``"continue"``) because it is in the top quantile: its previous
  directory is then frozen (nobody writes to it any more), so other members can copy it while this member trains
  on. Only frozen directories are ever copied (as Ray Tune copies only saved checkpoints).

Every job trains one ``perturbation_interval``: ``previous_budget`` is where it starts, ``budget`` where it ends.
The ``config_info`` of a generation (journaled with its configuration) holds ``{"pbt": {...}}``: ``member``,
``generation``, ``kind`` (``initial``, ``continue``, ``exploit``, ``replace``), ``start_budget``, and for the
other kinds ``source_member``, ``source_config_id``, ``source_budget``, ``source_loss`` and
``config_before_explore``. That is the lineage :meth:`bandster.records.result.Result.get_lineage` reads back.

Examples
--------
Four members by loss: the worst quarter exploits the best quarter.

>>> quantiles({0: 0.5, 1: 0.1, 2: 0.9, 3: 0.3}, 0.25)
([2], [1])
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from bandster.core.job import Job
from bandster.schedulers._base import JobRequest, Scheduler, positive_int, positive_number

logger = logging.getLogger(__name__)

__all__ = ["Mutation", "PBTScheduler", "explore", "make_mutations", "quantiles"]

KINDS = ("initial", "continue", "exploit", "replace")
#: consecutive failures of one member with no member to copy from, after which it is dropped
MAX_FAILURES_WITHOUT_SOURCE = 3


# ---------------------------------------------------------------------------------------------------- exploit
def quantiles(scores: Mapping[int, float], quantile_fraction: float) -> tuple[list[int], list[int]]:
    """The members in the bottom and in the top quantile, by loss (lower is better).

    As Ray Tune's ``PopulationBasedTraining``: with ``n`` scored members, each quantile holds
    ``ceil(n * quantile_fraction)`` members, at most ``floor(n / 2)``; fewer than two members: none.
    Ties keep the order of the member numbers (the lower number counts as better).

    Parameters
    ----------
    scores : mapping
        member -> its latest loss (finite).
    quantile_fraction : float
        In (0, 0.5].

    Returns
    -------
    lower, upper : list of int
        The worst members (worst first) and the best members (best first).

    Examples
    --------
    >>> quantiles({0: 1.0, 1: 2.0, 2: 3.0}, 0.5)
    ([2], [0])
    """
    if not 0 < quantile_fraction <= 0.5:
        raise ValueError(f"quantile_fraction must be in (0, 0.5], got {quantile_fraction!r}")
    ranked = sorted(scores, key=lambda m: (scores[m], m))  # best first
    if len(ranked) <= 1:
        return [], []
    n = min(int(math.ceil(len(ranked) * quantile_fraction)), len(ranked) // 2)
    return ranked[::-1][:n], ranked[:n]


# ---------------------------------------------------------------------------------------------------- explore
@dataclasses.dataclass(frozen=True)
class Mutation:
    """How one hyperparameter changes in :func:`explore`.

    Attributes
    ----------
    kind : {"continuous", "integer", "ordered", "categorical", "sampler"}
        continuous / integer: multiplied by a perturbation factor (integers rounded), clipped to
        ``[lower, upper]``; ordered: moved to a neighbouring value of ``values``; categorical: resampled from
        ``values``; sampler: resampled with ``sample`` or multiplied by a factor (clipped when bounds are known).
    lower, upper : float or None
        The bounds (the configuration space's range).
    values : tuple
        The value list (ordered or categorical).
    sample : callable
        ``sample(rng) -> value``: a resampled value.
    """

    kind: str
    sample: Callable[[np.random.RandomState], Any]
    lower: float | None = None
    upper: float | None = None
    values: tuple = ()

    def apply(self, value: Any, rng: np.random.RandomState, resample_probability: float,
              perturbation_factors: Sequence[float]) -> Any:
        """The mutated ``value`` (resampled with ``resample_probability``, else perturbed)."""
        if self.kind == "categorical":
            return self.sample(rng)
        if self.kind == "ordered":
            if rng.uniform() < resample_probability or value not in self.values:
                return self.sample(rng)
            index = self.values.index(value) + (-1 if rng.uniform() < 0.5 else 1)
            return self.values[min(max(index, 0), len(self.values) - 1)]
        if rng.uniform() < resample_probability:
            return self.sample(rng)
        factor = float(perturbation_factors[rng.randint(len(perturbation_factors))])
        new = float(value) * factor
        if self.kind == "integer" or (self.kind == "sampler" and isinstance(value, int | np.integer)
                                      and not isinstance(value, bool)):
            new = int(round(new))
        if self.lower is not None:
            new = max(new, self.lower)
        if self.upper is not None:
            new = min(new, self.upper)
        return type(new)(new)


def _space_mutation(hp: Any) -> Mutation | None:
    """The mutation of a ConfigSpace hyperparameter (None for a constant)."""
    from ConfigSpace.hyperparameters import (
        CategoricalHyperparameter,
        Constant,
        FloatHyperparameter,
        IntegerHyperparameter,
        OrdinalHyperparameter,
    )

    def sample(rng: np.random.RandomState) -> Any:
        value = hp.sample_value(seed=rng)
        return value.item() if isinstance(value, np.generic) else value

    if isinstance(hp, Constant):
        return None
    if isinstance(hp, CategoricalHyperparameter):
        return Mutation("categorical", sample, values=tuple(hp.choices))
    if isinstance(hp, OrdinalHyperparameter):
        return Mutation("ordered", sample, values=tuple(hp.sequence))
    lower, upper = getattr(hp, "lower", None), getattr(hp, "upper", None)
    lower = None if lower is None or not np.isfinite(lower) else float(lower)
    upper = None if upper is None or not np.isfinite(upper) else float(upper)
    if isinstance(hp, IntegerHyperparameter):
        return Mutation("integer", sample, lower, upper)
    if isinstance(hp, FloatHyperparameter):
        return Mutation("continuous", sample, lower, upper)
    raise TypeError(f"PBT cannot mutate hyperparameter {hp.name!r} of type {type(hp).__name__}; give it a value "
                    "list or a sampling function in hyperparam_mutations, or leave it out of them")


def make_mutations(configspace: Any, hyperparam_mutations: Mapping[str, Any] | None = None) -> dict[str, Mutation]:
    """The :class:`Mutation` of every hyperparameter PBT changes.

    Parameters
    ----------
    configspace : ConfigSpace.ConfigurationSpace or None
        The search space. Its ranges bound every numeric mutation.
    hyperparam_mutations : dict, optional
        As Ray Tune's: name -> a list of values (ordered: moves go to a neighbour), a function of no argument
        returning a resampled value (or of one argument: a ``numpy.random.RandomState``), or None (the space's
        own hyperparameter). Only these change; None (default): every non-constant hyperparameter of the space.

    Returns
    -------
    dict
        name -> Mutation.
    """
    space_names = list(configspace.keys()) if configspace is not None else []
    if hyperparam_mutations is None:
        if configspace is None:
            raise ValueError("PBT needs a configspace or hyperparam_mutations to know what to mutate")
        hyperparam_mutations = {name: None for name in space_names}
    if not isinstance(hyperparam_mutations, Mapping) or not hyperparam_mutations:
        raise ValueError("hyperparam_mutations must be a non-empty dict: name -> value list, sampling function, or "
                         f"None (the space's range); got {hyperparam_mutations!r}")
    mutations: dict[str, Mutation] = {}
    for name, spec in hyperparam_mutations.items():
        hp = configspace[name] if name in space_names else None
        bounds = _space_mutation(hp) if hp is not None else None
        if spec is None:
            if hp is None:
                raise ValueError(f"hyperparam_mutations[{name!r}] is None but {name!r} is not in the configspace; "
                                 "give a value list or a sampling function")
            if bounds is not None:
                mutations[name] = bounds
        elif isinstance(spec, list | tuple):
            if not spec:
                raise ValueError(f"hyperparam_mutations[{name!r}] is an empty list")
            values = tuple(spec)
            mutations[name] = Mutation("ordered", lambda rng, v=values: v[rng.randint(len(v))], values=values)
        elif callable(spec):
            lower, upper = (None, None) if bounds is None else (bounds.lower, bounds.upper)
            mutations[name] = Mutation("sampler", _sampler(spec), lower, upper)
        else:
            raise TypeError(f"hyperparam_mutations[{name!r}] must be a list of values, a function, or None; got "
                            f"{type(spec).__name__}")
    return mutations


def _sampler(function: Callable) -> Callable[[np.random.RandomState], Any]:
    import inspect

    try:
        takes_rng = len(inspect.signature(function).parameters) >= 1
    except (TypeError, ValueError):
        takes_rng = False
    return (lambda rng: function(rng)) if takes_rng else (lambda rng: function())


def explore(
    config: Mapping[str, Any],
    mutations: Mapping[str, Mutation],
    rng: np.random.RandomState,
    resample_probability: float = 0.25,
    perturbation_factors: Sequence[float] = (1.2, 0.8),
    custom_explore_fn: Callable[[dict], dict] | None = None,
) -> dict[str, Any]:
    """An explored copy of ``config``: every mutated hyperparameter resampled with ``resample_probability``, else
    perturbed (see :class:`Mutation`); then ``custom_explore_fn`` (if given) may change the result.

    Examples
    --------
    >>> import numpy as np, ConfigSpace as CS
    >>> space = CS.ConfigurationSpace({"lr": (0.001, 0.1)})
    >>> explore({"lr": 0.09}, make_mutations(space), np.random.RandomState(1), resample_probability=0.0)
    {'lr': 0.1}
    """
    new = dict(config)
    for name in sorted(mutations):
        if name in new:
            new[name] = mutations[name].apply(new[name], rng, resample_probability, perturbation_factors)
    if custom_explore_fn is not None:
        changed = custom_explore_fn(dict(new))
        if not isinstance(changed, Mapping):
            raise TypeError(f"custom_explore_fn must return the configuration as a dict, got {type(changed).__name__}")
        new = dict(changed)
    return new


# ---------------------------------------------------------------------------------------------------- the scheduler
@dataclasses.dataclass
class _Member:
    """One member's state (private to the scheduler)."""

    number: int
    generation: int = 0
    config: dict = dataclasses.field(default_factory=dict)
    budget: float = 0.0  # where its checkpoint is (its training so far)
    score: float | None = None  # latest finite loss
    running: bool = False
    request: JobRequest | None = None  # the next job, decided
    awaiting: bool = False  # finished a job; the decision is pending (synchronous mode)
    last_failed: bool = False
    failures: int = 0
    dropped: bool = False
    snapshots: list[tuple[tuple, float, float, dict]] = dataclasses.field(default_factory=list)

    @property
    def config_id(self) -> tuple:
        return (self.number, 0, self.generation)


class PBTScheduler(Scheduler):
    """Population Based Training as a :class:`~bandster.schedulers.Scheduler` (see the module's docstring).

    Parameters
    ----------
    sampler : base_config_generator
        Draws the initial population (after ``initial_design``).
    population_size : int
    perturbation_interval : float
        The budget of one job: every job trains this much further (the last one up to ``max_budget``).
    max_budget : float
        Where every member's training ends.
    burn_in_period : float
        No exploit before a member has trained this far.
    mutations : dict
        name -> :class:`Mutation` (:func:`make_mutations`).
    quantile_fraction, resample_probability, perturbation_factors, custom_explore_fn
        As in Ray Tune (:func:`quantiles`, :func:`explore`).
    synchronous : bool
        False (default): a member decides when its own job ends, against the population's latest scores. True:
        every member waits until the whole population has finished the interval.
    seed : int, optional
        Seeds the exploit and explore choices.
    initial_design : InitialDesign, optional

    Examples
    --------
    >>> import ConfigSpace as CS
    >>> from bandster.samplers import RandomSampling
    >>> space = CS.ConfigurationSpace({"lr": (0.01, 0.5)})
    >>> scheduler = PBTScheduler(RandomSampling(space, seed=0), population_size=2, perturbation_interval=1,
    ...                          max_budget=2, mutations=make_mutations(space), synchronous=True, seed=0)
    >>> first = scheduler.ask(); second = scheduler.ask()
    >>> first.config_id, first.previous_budget, first.budget
    ((0, 0, 0), None, 1.0)
    >>> scheduler.tell(first, 0.2); scheduler.tell(second, 0.1)
    >>> scheduler.ask().config_id  # member 1 is better: it continues in a fresh directory; member 0 exploits it
    (0, 0, 1)
    """

    def __init__(
        self,
        sampler: Any,
        population_size: int,
        perturbation_interval: float,
        max_budget: float,
        mutations: Mapping[str, Mutation],
        burn_in_period: float = 0.0,
        quantile_fraction: float = 0.25,
        resample_probability: float = 0.25,
        perturbation_factors: Sequence[float] = (1.2, 0.8),
        custom_explore_fn: Callable[[dict], dict] | None = None,
        synchronous: bool = False,
        seed: int | None = None,
        initial_design: Any = None,
    ) -> None:
        super().__init__(sampler, initial_design)
        positive_int("population_size", population_size, allow_none=False)
        if population_size < 2:
            raise ValueError(f"population_size must be at least 2 (a member exploits another), got {population_size}")
        self.population_size = population_size
        self.perturbation_interval = positive_number("perturbation_interval", perturbation_interval)
        self.max_budget = positive_number("max_budget", max_budget)
        if isinstance(burn_in_period, bool) or not isinstance(burn_in_period, int | float) or burn_in_period < 0:
            raise ValueError(f"burn_in_period must be a number >= 0, got {burn_in_period!r}")
        self.burn_in_period = float(burn_in_period)
        if isinstance(quantile_fraction, bool) or not isinstance(quantile_fraction, int | float) or not (
                0 < quantile_fraction <= 0.5):
            raise ValueError(f"quantile_fraction must be in (0, 0.5] (the bottom and top quantiles cannot overlap), "
                             f"got {quantile_fraction!r}")
        self.quantile_fraction = float(quantile_fraction)
        if isinstance(resample_probability, bool) or not isinstance(resample_probability, int | float) or not (
                0 <= resample_probability <= 1):
            raise ValueError(f"resample_probability must be in [0, 1], got {resample_probability!r}")
        self.resample_probability = float(resample_probability)
        factors = tuple(perturbation_factors)
        if not factors or any(isinstance(f, bool) or not isinstance(f, int | float) or not f > 0 for f in factors):
            raise ValueError(f"perturbation_factors must be positive numbers, got {perturbation_factors!r}")
        self.perturbation_factors = tuple(float(f) for f in factors)
        self.mutations = dict(mutations)
        self.custom_explore_fn = custom_explore_fn
        self.synchronous = bool(synchronous)
        self.seed = seed
        self.rng = np.random.RandomState(seed)
        self.members: list[_Member] = []
        self._granted = False
        self._ended = False

    # ------------------------------------------------------------------ the Scheduler interface
    def grant(self, n_iterations: int, max_configs: int | None = None) -> dict[str, Any]:
        """Start the population (the first time); ``n_iterations`` is not used: the population trains to
        ``max_budget``."""
        self.add_grant(n_iterations, max_configs)
        self._ended = False
        if not self.members:
            for number in range(self.population_size):
                config, _info = self.sample_config(self.perturbation_interval)
                member = _Member(number, config=dict(config))
                member.request = self._request(member, "initial", self._job_budget(0.0), None)
                self.members.append(member)
        self._granted = True
        return {"population_size": self.population_size, "members_training": self._active_count()}

    def next_job(self) -> JobRequest | None:
        if not self._granted or self._ended:
            return None
        ready = [m for m in self.members if m.request is not None and not m.running and not m.dropped]
        if not ready:
            return None
        member = min(ready, key=lambda m: (m.request.previous_budget or 0.0, m.number))  # least trained first
        request, member.request = member.request, None
        member.running = True
        self._event("pbt_job", member=member.number, config_id=list(request.config_id),
                    budget_start=float(request.previous_budget or 0.0), budget_end=float(request.budget))
        return request

    def on_result(self, job: Job) -> None:
        member = self.members[job.id[0]] if len(job.id) == 3 and 0 <= job.id[0] < len(self.members) else None
        if member is None or tuple(job.id) != member.config_id:
            logger.warning("PBT: result for %s, which is not a member's current generation; ignored", job.id)
            return
        member.running = False
        loss = job.result.get("loss") if isinstance(job.result, dict) else None
        ok = isinstance(loss, int | float) and not isinstance(loss, bool) and math.isfinite(loss)
        self.feed_sampler(job)
        if ok:
            member.budget = float(job.kwargs["budget"])
            member.score = float(loss)
            member.last_failed = False
            member.failures = 0
        else:
            member.last_failed = True
            member.failures += 1
            self._event("pbt_member_failed", member=member.number, config_id=list(member.config_id),
                        budget=float(job.kwargs.get("budget") or 0.0), error=str(job.exception or "")[-500:])
        member.awaiting = True
        if self.synchronous:
            self._decide_synchronous()
        else:
            self._decide(member, self._quantiles())

    def is_done(self) -> bool:
        if not self._granted:
            return True
        if self._ended:
            return not any(m.running for m in self.members)
        return all(m.dropped or (m.request is None and not m.running and not m.awaiting) for m in self.members)

    def end_grant(self) -> None:
        self._ended = True

    @property
    def num_iterations(self) -> int:
        return len(self.members)

    def planned_runs(self, n_iterations: int) -> int | None:
        if self.members:
            return None
        return self.population_size * int(math.ceil(self.max_budget / self.perturbation_interval - 1e-9))

    def manifest(self) -> dict[str, Any]:
        return {
            "class": type(self).__name__, "population_size": self.population_size,
            "perturbation_interval": self.perturbation_interval, "max_budget": self.max_budget,
            "burn_in_period": self.burn_in_period, "quantile_fraction": self.quantile_fraction,
            "resample_probability": self.resample_probability,
            "perturbation_factors": list(self.perturbation_factors), "synchronous": self.synchronous,
            "mutations": sorted(self.mutations), "seed": self.seed,
        }

    # ------------------------------------------------------------------ decisions
    def _active_count(self) -> int:
        return sum(1 for m in self.members if not m.dropped and m.budget < self.max_budget)

    def _job_budget(self, start: float) -> float:
        return min(start + self.perturbation_interval, self.max_budget)

    def _quantiles(self) -> tuple[list[int], list[int]]:
        scores = {m.number: m.score for m in self.members
                  if m.score is not None and not m.dropped and m.budget < self.max_budget}
        return quantiles(scores, self.quantile_fraction)

    def _request(self, member: _Member, kind: str, budget: float, previous: float | None,
                 source: tuple | None = None, extra: dict | None = None) -> JobRequest:
        info = {"model_based_pick": False, "pbt": {"member": member.number, "generation": member.generation,
                                                   "kind": kind, "start_budget": previous or 0.0, **(extra or {})}}
        return JobRequest(member.config_id, dict(member.config), budget, info, previous_budget=previous,
                          checkpoint_from=source)

    def _continue(self, member: _Member, attempt: int = 1) -> None:
        """The member's next interval, in its own directory."""
        member.request = dataclasses.replace(
            self._request(member, "continue", self._job_budget(member.budget), member.budget or None),
            config_info={}, attempt=attempt)

    def _decide_synchronous(self) -> None:
        """Once every member has finished the interval, decide for all of them on the same quantiles."""
        if any(m.running or m.request is not None for m in self.members if not m.dropped):
            return
        lower_upper = self._quantiles()
        upper = lower_upper[1]
        # the top members first: they freeze the directories the bottom members then copy
        for member in sorted(self.members, key=lambda m: (m.number not in upper, m.number)):
            if member.awaiting and not member.dropped:
                self._decide(member, lower_upper)

    def _decide(self, member: _Member, lower_upper: tuple[list[int], list[int]]) -> None:
        """What the member does after its job: continue, continue in a fresh directory, exploit, or (finished)
        nothing."""
        member.awaiting = False
        lower, upper = lower_upper
        if member.last_failed:
            if self._exploit(member, upper, "replace"):
                return
            if member.failures >= MAX_FAILURES_WITHOUT_SOURCE:
                member.dropped = True
                self._event("pbt_member_dropped", member=member.number, failures=member.failures,
                            reason="failed with no member to copy from")
                logger.warning("PBT: member %d failed %d times with no member to copy from; it is dropped",
                               member.number, member.failures)
                return
            self._continue(member, attempt=member.failures + 1)  # its checkpoint is still the one before the job
            return
        if member.budget >= self.max_budget:
            return
        if member.budget < self.burn_in_period:
            self._continue(member)
            return
        if member.number not in upper:
            member.snapshots = []  # as Ray Tune: only a member whose latest result is on top can be copied
        if member.number in lower and self._exploit(member, upper, "exploit"):
            return
        if member.number in upper:  # freeze this directory for the others: train on in a fresh one
            member.snapshots = [(member.config_id, member.budget, member.score, dict(member.config))]
            source = member.config_id
            member.generation += 1
            member.request = self._request(member, "continue", self._job_budget(member.budget), member.budget,
                                           source, {"source_member": member.number, "source_config_id": list(source),
                                                    "source_budget": member.budget, "source_loss": member.score})
            return
        self._continue(member)

    def _exploit(self, member: _Member, upper: list[int], kind: str) -> bool:
        """Copy the frozen checkpoint of a top member whose latest result was on top too (drawn at random) and explore
        its configuration; False if there is none."""
        candidates = [n for n in upper if n != member.number and self.members[n].snapshots]
        if not candidates and kind == "replace":  # a failed member takes any frozen checkpoint
            candidates = sorted((m.number for m in self.members if m.number != member.number and m.snapshots
                                 and m.snapshots[-1][1] < self.max_budget),
                                key=lambda n: self.members[n].snapshots[-1][2])[:1]
        candidates = [n for n in candidates if self.members[n].snapshots[-1][1] < self.max_budget]
        if not candidates:
            return False
        source_member = self.members[candidates[self.rng.randint(len(candidates))]]
        source_id, source_budget, source_loss, source_config = source_member.snapshots[-1]
        new_config = explore(source_config, self.mutations, self.rng, self.resample_probability,
                             self.perturbation_factors, self.custom_explore_fn)
        member.generation += 1
        member.config = new_config
        member.budget = source_budget
        member.score = source_loss  # it holds that model now (Ray Tune keeps its old score until its next result)
        member.last_failed = False
        member.request = self._request(
            member, kind, self._job_budget(source_budget), source_budget, source_id,
            {"source_member": source_member.number, "source_config_id": list(source_id),
             "source_budget": source_budget, "source_loss": source_loss,
             "config_before_explore": dict(source_config)})
        self._event("pbt_" + kind, member=member.number, config_id=list(member.config_id),
                    source_member=source_member.number, source_config_id=list(source_id), source_budget=source_budget)
        return True

    # ------------------------------------------------------------------ resume
    def replay(self, result: Any, attempts: Any) -> tuple[list[JobRequest], dict[str, int]]:
        """Rebuild the population from the journal (``resume=True``).

        Each member continues from its latest journaled generation (a generation is journaled only after its
        checkpoint was copied, so a crash mid-copy leaves the member in its previous one): from the budget of that
        generation's latest result, or, if it has none, from its start (its checkpoint is copied again from the
        frozen source). Then each member decides again as if its latest result had just arrived.
        """
        id2conf = result.get_id2config_mapping()
        runs = result.get_all_runs()  # in the order they finished
        time_ref = result.HB_config.get("time_ref") or 0.0
        for run in runs:
            if run.config_id in id2conf:
                self.feed_sampler(Job.from_run(run, id2conf[run.config_id]["config"], time_ref), update_model=False)
        self.skip_initial_design(e["config_info"] for e in id2conf.values())
        generations: dict[int, dict[int, dict]] = {}
        for config_id, entry in id2conf.items():
            info = (entry.get("config_info") or {}).get("pbt") if isinstance(entry.get("config_info"), dict) else None
            if len(config_id) == 3 and isinstance(info, dict) and 0 <= config_id[0] < self.population_size:
                generations.setdefault(config_id[0], {})[config_id[2]] = {"config": entry["config"], "info": info}
        runs_of: dict[tuple, list] = {}
        for run in runs:
            runs_of.setdefault(run.config_id, []).append(run)
        last_loss: dict[int, float] = {}  # each member's latest finite loss, in the order the results came
        for run in runs:
            if run.config_id[0] in generations and run.loss is not None and math.isfinite(run.loss):
                last_loss[run.config_id[0]] = float(run.loss)
        self.members = []
        n_runs = 0
        for number in range(self.population_size):
            member = _Member(number)
            self.members.append(member)
            gens = generations.get(number)
            if not gens:
                config, _info = self.sample_config(self.perturbation_interval)
                member.config = dict(config)
                member.request = self._request(member, "initial", self._job_budget(0.0), None)
                continue
            for generation in sorted(gens):
                info = gens[generation]["info"]
                if info.get("kind") == "continue" and info.get("source_member") == number:
                    previous = (number, 0, generation - 1)
                    loss = info.get("source_loss")
                    if previous in runs_of:
                        member.snapshots.append((previous, float(info["source_budget"]),
                                                 float(loss) if loss is not None else math.inf,
                                                 dict(gens.get(generation - 1, {}).get("config", {}))))
            generation = max(gens)
            member.generation = generation
            member.config = dict(gens[generation]["config"])
            info = gens[generation]["info"]
            own = runs_of.get(member.config_id, [])
            n_runs += sum(len(runs_of.get((number, 0, g), [])) for g in gens)
            finished = [r for r in own if r.loss is not None and math.isfinite(r.loss)]
            if finished:
                last = max(finished, key=lambda r: r.budget)
                member.budget, member.score = float(last.budget), float(last.loss)
                member.awaiting = True
                if own[-1].loss is None or not math.isfinite(own[-1].loss):
                    member.last_failed, member.failures = True, 1
                continue
            start = float(info.get("start_budget") or 0.0)
            member.budget = start
            member.score = info.get("source_loss", last_loss.get(number))
            source = info.get("source_config_id")
            kind = info.get("kind", "initial")
            budget = self._job_budget(start)
            attempt = attempts.get((member.config_id, budget), 0) + 1
            extra = {k: v for k, v in info.items() if k.startswith("source") or k == "config_before_explore"}
            member.request = dataclasses.replace(
                self._request(member, kind, budget, start or None, tuple(source) if source else None, extra),
                attempt=attempt)
            if own:  # only failed runs: replace it
                member.request, member.awaiting, member.last_failed, member.failures = None, True, True, len(own)
        for member in self.members:  # a snapshot can be copied only while it is the member's latest result
            member.snapshots = [snap for snap in member.snapshots[-1:] if snap[1] == member.budget]
        self.resumed = True
        self._granted = True
        if self.synchronous:
            self._decide_synchronous()
        else:
            lower_upper = self._quantiles()
            for member in self.members:
                if member.awaiting:
                    self._decide(member, lower_upper)
        return [], {"iterations": len(self.members), "runs": n_runs,
                    "requeued": sum(1 for m in self.members if m.request is not None)}
