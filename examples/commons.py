"""The worker and search space shared by the examples (HpBandSter's ``commons.py``, ported).

The loss is a noisy function of one hyperparameter ``x`` whose noise shrinks as the budget grows, so
larger budgets give more reliable answers: the setting multi-fidelity optimizers are made for.
"""

import time

import ConfigSpace as CS
import numpy

from bandster.core.worker import Worker


class MyWorker(Worker):
    def __init__(self, *args, sleep_interval=0, **kwargs):
        super().__init__(*args, **kwargs)
        self.sleep_interval = sleep_interval

    def compute(self, config, budget, **kwargs):
        """A noisy version of ``x``: the noise's scale is ``1 / budget``.

        Returns
        -------
        dict
            ``{'loss': float, 'info': anything JSON-able}``; numpy scalars are fine, bandster converts them.
        """
        res = numpy.clip(config["x"] + numpy.random.randn() / budget, config["x"] / 2, 1.5 * config["x"])
        time.sleep(self.sleep_interval)
        return {"loss": float(res), "info": res}

    @staticmethod
    def get_configspace():
        config_space = CS.ConfigurationSpace()
        config_space.add(CS.UniformFloatHyperparameter("x", lower=0, upper=1))
        return config_space


def print_summary(res, max_budget):
    """Print what HpBandSter's examples print: the incumbent and the numbers of configurations and runs.

    A run stopped early (Ctrl-C, ``bandster stop``) or one in which every run failed has no incumbent: that
    is said instead of failing on ``id2config[None]``.
    """
    id2config = res.get_id2config_mapping()
    incumbent = res.get_incumbent_id()
    all_runs = res.get_all_runs()
    if incumbent is None:
        failed = sum(1 for r in all_runs if r.loss is None or r.loss != r.loss or abs(r.loss) == float("inf"))
        print("No incumbent: no run on the largest budget (%g) finished with a finite loss (%i of %i runs failed;"
              " the run was stopped early or every run failed). See the run's journal for the errors."
              % (max_budget, failed, len(all_runs)))
    else:
        print("Best found configuration:", id2config[incumbent]["config"])
    print("A total of %i unique configurations were sampled." % len(id2config.keys()))
    print("A total of %i runs were executed." % len(all_runs))
    print("Total budget corresponds to %.1f full function evaluations."
          % (sum([r.budget for r in all_runs]) / max_budget))
