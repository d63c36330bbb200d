"""Earlier path of the initial design; it lives in :mod:`bandster.samplers.initial_design`."""

from bandster.samplers.initial_design import InitialDesign, complete_configuration

__all__ = ["InitialDesign", "complete_configuration"]
