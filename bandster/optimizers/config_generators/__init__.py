"""Config generators: the samplers that propose configurations."""

from bandster.optimizers.config_generators.random_sampling import RandomSampling
from bandster.samplers.bohb import BOHB

__all__ = ["BOHB", "RandomSampling"]
