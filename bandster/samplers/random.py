"""RandomSampling: configurations drawn from the configuration space's prior."""

from __future__ import annotations

import copy
import logging
from collections import deque
from collections.abc import Sequence
from typing import Any

import numpy as np
from ConfigSpace import Configuration, ConfigurationSpace
from ConfigSpace.hyperparameters import FloatHyperparameter

from bandster.core._convert import config_to_dict, to_builtin
from bandster.samplers._base import base_config_generator

try:  # the number of decimals ConfigSpace rounds float values to when it reads a Configuration
    from ConfigSpace.configuration import ROUND_PLACES as _ROUND_PLACES
except ImportError:  # pragma: no cover - depends on the ConfigSpace version
    _ROUND_PLACES = None

logger = logging.getLogger(__name__)


def check_configspace(configspace: Any) -> ConfigurationSpace:
    """Return ``configspace`` if it is a non-empty ``ConfigurationSpace``; raise a clear error otherwise.

    Raises
    ------
    ValueError
        If ``configspace`` is None or has no hyperparameters.
    TypeError
        If it is not a ``ConfigSpace.ConfigurationSpace``.
    """
    if configspace is None:
        raise ValueError(
            "configspace is None; build a ConfigSpace.ConfigurationSpace with your hyperparameters "
            "and pass it as configspace=..."
        )
    if not isinstance(configspace, ConfigurationSpace):
        raise TypeError(f"configspace must be a ConfigSpace.ConfigurationSpace, got {type(configspace).__name__}")
    if len(configspace) == 0:
        raise ValueError("the configuration space has no hyperparameters; add some with configspace.add(...) first")
    return configspace


def _fast_configurations_to_dicts(
    configspace: ConfigurationSpace, configurations: Sequence[Configuration]
) -> list[dict[str, Any]]:
    """Column-wise version of ``[config_to_dict(c) for c in configurations]``.

    ConfigSpace turns each value of a ``Configuration`` from its vector form one at a time; doing it
    once per hyperparameter for the whole batch is about ten times cheaper.
    """
    if _ROUND_PLACES is None:  # pragma: no cover - depends on the ConfigSpace version
        raise RuntimeError("ConfigSpace.configuration.ROUND_PLACES is unavailable")
    matrix = np.stack([np.asarray(c.get_array(), dtype=float) for c in configurations], axis=1)
    columns = []
    for row, name in enumerate(configspace.keys()):
        hp = configspace[name]
        vector = matrix[row]
        active = ~np.isnan(vector)
        values: list[Any] = [None] * vector.shape[0]
        if active.any():
            converted = np.asarray(hp.to_value(vector[active]))
            if isinstance(hp, FloatHyperparameter):
                converted = np.round(converted.astype(float), _ROUND_PLACES)
            for index, value in zip(np.flatnonzero(active).tolist(), converted.tolist(), strict=True):
                values[index] = to_builtin(value)
        columns.append((str(name), active.tolist(), values))
    return [{name: values[j] for name, active, values in columns if active[j]} for j in range(matrix.shape[1])]


def configurations_to_dicts(
    configspace: ConfigurationSpace, configurations: Sequence[Configuration]
) -> list[dict[str, Any]]:
    """Return each configuration as a dict of builtins holding its active hyperparameters.

    The same as ``[config_to_dict(c) for c in configurations]``, computed column-wise when possible.
    """
    if not configurations:
        return []
    try:
        return _fast_configurations_to_dicts(configspace, configurations)
    except Exception as exc:  # pragma: no cover - only with an unexpected ConfigSpace version
        logger.debug("column-wise conversion failed (%s); converting one configuration at a time", exc)
        return [config_to_dict(c) for c in configurations]


class RandomSampling(base_config_generator):
    """Propose configurations drawn at random from the configuration space's prior.

    The sampler works on a private deep copy of ``configspace`` seeded with ``seed``, so the user's
    space (and its random state) is left untouched, and the same seed gives the same sequence of
    configurations. Configurations are drawn ``batch_size`` at a time and handed out one by one:
    ConfigSpace samples and converts a batch several times faster than single configurations.

    Parameters
    ----------
    configspace : ConfigSpace.ConfigurationSpace
        The search space; must hold at least one hyperparameter.
    seed : int, optional
        Seed of the private copy's random state. None draws fresh entropy from the operating system.
    batch_size : int
        How many configurations to sample at once (default 64).
    **kwargs
        Passed to :class:`~bandster.core.base_config_generator.base_config_generator` (``logger``).

    Examples
    --------
    >>> from ConfigSpace import ConfigurationSpace, Float
    >>> cs = ConfigurationSpace(space={"x": (0.0, 1.0)})
    >>> config, info = RandomSampling(cs, seed=1).get_config(budget=1.0)
    >>> sorted(config), info
    (['x'], {})
    """

    def __init__(
        self,
        configspace: ConfigurationSpace,
        seed: int | None = None,
        batch_size: int = 64,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        check_configspace(configspace)
        if isinstance(batch_size, bool) or int(batch_size) != batch_size or batch_size < 1:
            raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
        self.seed = seed
        self.batch_size = int(batch_size)
        self.configspace = copy.deepcopy(configspace)
        try:
            self.configspace.seed(seed)  # type: ignore[arg-type]  # None: fresh OS entropy
        except (TypeError, ValueError) as exc:
            raise ValueError(f"seed must be None or an integer in [0, 2**32 - 1], got {seed!r}") from exc
        self._buffer: deque[dict[str, Any]] = deque()
        # The column-wise conversion is checked against ConfigSpace's own on the first batch.
        self._fast_checked = False
        self._fast = True

    def _refill(self) -> None:
        if self.batch_size == 1:
            batch = [self.configspace.sample_configuration()]
        else:
            batch = self.configspace.sample_configuration(size=self.batch_size)
        if not self._fast:
            self._buffer.extend(config_to_dict(c) for c in batch)
            return
        dicts = configurations_to_dicts(self.configspace, batch)
        if not self._fast_checked:
            reference = [config_to_dict(c) for c in batch]
            self._fast_checked = True
            if [list(d.items()) for d in dicts] != [list(d.items()) for d in reference]:
                self.logger.debug("column-wise conversion differs from ConfigSpace's; not using it")
                self._fast = False
                dicts = reference
        self._buffer.extend(dicts)

    def get_config(self, budget: float) -> tuple[dict[str, Any], dict[str, Any]]:
        """Return ``(config, {})``: a random configuration's active hyperparameters, as builtins.

        Parameters
        ----------
        budget : float
            Ignored; random sampling does not depend on the budget.
        """
        if not self._buffer:
            self._refill()
        return self._buffer.popleft(), {}
