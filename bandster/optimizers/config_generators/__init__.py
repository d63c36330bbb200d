"""Config generators: the samplers that propose configurations."""

from bandster.optimizers.config_generators.bohb import BOHB
from bandster.optimizers.config_generators.random_sampling import RandomSampling

__all__ = ["BOHB", "RandomSampling"]
