"""Optimizers: RandomSearch, HyperBand, BOHB; their config generators and iterations."""

from bandster.optimizers.bohb import BOHB
from bandster.optimizers.hyperband import HyperBand
from bandster.optimizers.iterations import SuccessiveHalving, SuccessiveResampling
from bandster.optimizers.randomsearch import RandomSearch

__all__ = ["BOHB", "HyperBand", "RandomSearch", "SuccessiveHalving", "SuccessiveResampling"]
from bandster.optimizers.asynchronous import ASHA, AsyncBOHB, AsyncHyperBand  # noqa: E402

__all__ += ["ASHA", "AsyncBOHB", "AsyncHyperBand"]
from bandster.optimizers.stopping import PASHA, MedianStopping  # noqa: E402

__all__ += ["MedianStopping", "PASHA"]
