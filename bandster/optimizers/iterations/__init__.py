"""Successive-halving style iterations: the rules that decide which configurations move on."""

from bandster.optimizers.iterations.successivehalving import SuccessiveHalving
from bandster.optimizers.iterations.successiveresampling import SuccessiveResampling

__all__ = ["SuccessiveHalving", "SuccessiveResampling"]
