"""bandster: distributed multi-fidelity hyperparameter optimization (HpBandSter, maintained)."""

from bandster.__version__ import __version__
from bandster.plan import plan as plan

__all__ = ["__version__", "optimize"]


def __getattr__(name: str):  # the function API (and what it imports) loads on first use
    if name == "optimize":
        from bandster.function_api import optimize

        return optimize
    raise AttributeError(f"module 'bandster' has no attribute {name!r}")
