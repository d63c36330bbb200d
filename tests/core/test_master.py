"""The Master facade: HpBandSter-style subclasses with their own iterations still work."""

import collections

import ConfigSpace as CS

from bandster.core.master import Master
from bandster.optimizers.config_generators.random_sampling import RandomSampling
from bandster.optimizers.iterations import SuccessiveHalving
from bandster.schedulers import IterationScheduler

from toy_workers import QuadraticWorker


class TwoStageMaster(Master):
    """What HpBandSter users wrote: a Master whose every iteration is 4 configurations on 1, the best 2 on 2."""

    def __init__(self, configspace, **kwargs):
        super().__init__(config_generator=RandomSampling(configspace, seed=0), **kwargs)
        self.made = []

    def get_next_iteration(self, iteration, iteration_kwargs={}):  # noqa: B006 - HpBandSter's signature
        self.made.append((iteration, dict(iteration_kwargs)))
        return SuccessiveHalving(HPB_iter=iteration, num_configs=[4, 2], budgets=[1.0, 2.0],
                                 config_sampler=self.config_generator.get_config, **iteration_kwargs)


def test_user_subclass_of_master_with_its_own_iterations(tmp_path, nameserver, run_id):
    space = CS.ConfigurationSpace({"x": (0.0, 1.0)})
    worker = QuadraticWorker(run_id=run_id, nameserver=nameserver.host, nameserver_port=nameserver.port)
    worker.run(background=True)
    master = TwoStageMaster(space, run_id=run_id, nameserver=nameserver.host, nameserver_port=nameserver.port,
                            working_directory=str(tmp_path))
    try:
        assert isinstance(master.scheduler, IterationScheduler)
        result = master.run(n_iterations=2, progress=False)
        result = master.run(n_iterations=1, progress=False)  # iteration indices keep counting across calls
    finally:
        master.shutdown(shutdown_workers=True)
    assert [index for index, _ in master.made] == [0, 1, 2]
    counts = collections.Counter((r.config_id[0], r.budget) for r in result.get_all_runs())
    assert counts == {(i, b): n for i in range(3) for b, n in ((1.0, 4), (2.0, 2))}
    assert result.HB_config["time_ref"] is not None
    assert master.active_iterations() == []
