"""Optimizers: RandomSearch, HyperBand, BOHB, ASHA, AsyncHyperBand, AsyncBOHB, MedianStopping, PASHA, PBT; their config
generators and iterations.

The optimizers are imported on first use (``from bandster.optimizers import BOHB`` works as before), so that
importing a pure submodule such as :mod:`bandster.optimizers.brackets` loads neither the master nor Pyro5.
"""

from __future__ import annotations

import importlib
from typing import Any

#: public name -> the module defining it
_LAZY = {
    "BOHB": "bandster.optimizers.bohb",
    "HyperBand": "bandster.optimizers.hyperband",
    "RandomSearch": "bandster.optimizers.randomsearch",
    "SuccessiveHalving": "bandster.optimizers.iterations",
    "SuccessiveResampling": "bandster.optimizers.iterations",
    "ASHA": "bandster.optimizers.asynchronous",
    "AsyncBOHB": "bandster.optimizers.asynchronous",
    "AsyncHyperBand": "bandster.optimizers.asynchronous",
    "MedianStopping": "bandster.optimizers.stopping",
    "PASHA": "bandster.optimizers.stopping",
    "PBT": "bandster.optimizers.pbt",
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
