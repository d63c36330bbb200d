"""Hyperband (Li et al., 2017) with HpBandSter's bracket arithmetic and random sampling."""

from __future__ import annotations

from typing import Any

from bandster.optimizers._bracket_optimizer import BracketOptimizer, require_configspace
from bandster.samplers.random import RandomSampling


class HyperBand(BracketOptimizer):
    """Hyperband: brackets of successive halving over configurations sampled at random.

    Parameters
    ----------
    configspace : ConfigSpace.ConfigurationSpace
        The search space.
    eta : float
        Only the best ``1/eta`` of a stage's configurations advance to the next, ``eta`` times larger budget.
    min_budget, max_budget : float
        The smallest and largest budget; the ladder is anchored at ``max_budget``.
    seed : int, optional
        Seeds the sampler: with one worker, the same seed gives the same configurations in the same order.
    **kwargs
        Passed to :class:`~bandster.core.master.Master`: ``run_id`` (required), ``nameserver``,
        ``nameserver_port``, ``working_directory``, ``result_logger``, ``ping_interval``, ...
    points_to_evaluate : list of dict, optional
        Configurations (possibly partial; missing values come from the defaults) evaluated before sampled ones.
    previous_result : Result or str, optional
        Warm start from an earlier run's Result or its journal directory.

    Examples
    --------
    >>> import ConfigSpace as CS
    >>> from bandster.core.nameserver import NameServer
    >>> from bandster.core.worker import Worker
    >>> class W(Worker):
    ...     def compute(self, config, budget, **kwargs):
    ...         return {'loss': (config['x'] - 0.3) ** 2 + 1 / budget, 'info': {}}
    >>> ns = NameServer(run_id='hb_doc'); host, port = ns.start()
    >>> w = W(run_id='hb_doc', nameserver=host, nameserver_port=port); w.run(background=True)
    >>> hb = HyperBand(configspace=CS.ConfigurationSpace({'x': (0.0, 1.0)}), run_id='hb_doc', nameserver=host,
    ...                nameserver_port=port, min_budget=1, max_budget=9, seed=0, working_directory='hb_doc')
    >>> result = hb.run(n_iterations=3, progress=False)
    >>> len(result.get_all_runs())  # brackets (9, 3, 1), (3, 1) and (3)
    20
    >>> hb.shutdown(shutdown_workers=True); ns.shutdown()
    """

    def __init__(
        self,
        configspace: Any = None,
        eta: float = 3,
        min_budget: float = 0.01,
        max_budget: float = 1,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        require_configspace(configspace, "HyperBand")
        super().__init__(
            configspace,
            RandomSampling(configspace, seed=seed),
            eta,
            min_budget,
            max_budget,
            seed,
            optimizer_kwargs={},
            **kwargs,
        )
