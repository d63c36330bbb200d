"""bandster: distributed multi-fidelity hyperparameter optimization (HpBandSter, maintained)."""

from bandster.__version__ import __version__
from bandster.plan import plan as plan

__all__ = ["__version__"]
