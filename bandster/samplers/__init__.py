"""Samplers propose configurations: random sampling, BOHB's KDE model, an initial design, a warm start.

Each is a :class:`Sampler` (``get_config(budget)``, ``new_result(job)``); a scheduler asks them for new
configurations. They hold no threads and touch no network.
"""

from bandster.samplers._base import Sampler, base_config_generator
from bandster.samplers.bohb import BOHB
from bandster.samplers.initial_design import InitialDesign
from bandster.samplers.random import RandomSampling

__all__ = ["BOHB", "InitialDesign", "RandomSampling", "Sampler", "base_config_generator"]
