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
