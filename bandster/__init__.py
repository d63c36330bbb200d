"""bandster: distributed multi-fidelity hyperparameter optimization (HpBandSter, maintained)."""

from bandster.__version__ import __version__

__all__ = ["__version__"]
