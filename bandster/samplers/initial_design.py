"""Initial designs (``points_to_evaluate=``): user-given, possibly partial configurations evaluated first."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

from ConfigSpace import Configuration, ConfigurationSpace
from ConfigSpace.util import deactivate_inactive_hyperparameters

from bandster.core._convert import config_to_dict


def complete_configuration(configspace: ConfigurationSpace, partial: Mapping[str, Any]) -> dict[str, Any]:
    """Fill the hyperparameters missing from ``partial`` with their defaults and check the result.

    Hyperparameters made inactive by the given values are dropped; ones made active get their defaults.

    Raises
    ------
    ValueError
        naming unknown hyperparameters, illegal values or forbidden combinations.

    Examples
    --------
    >>> import ConfigSpace as CS
    >>> cs = CS.ConfigurationSpace({'lr': (1e-4, 1e-1), 'layers': (1, 4)})
    >>> complete_configuration(cs, {'lr': 0.01})
    {'layers': 2, 'lr': 0.01}
    """
    if not isinstance(partial, Mapping):
        raise ValueError(f"each point to evaluate must be a dict of hyperparameter values, got {partial!r}")
    names = set(configspace.keys())
    unknown = sorted(set(map(str, partial)) - names)
    if unknown:
        raise ValueError(
            f"points_to_evaluate names unknown hyperparameters {unknown}; the space has {sorted(names)}"
        )
    values = {name: hp.default_value for name, hp in configspace.items()}
    values.update(partial)
    try:
        config = deactivate_inactive_hyperparameters(values, configspace)
        if not isinstance(config, Configuration):
            config = Configuration(configspace, values=dict(config))
        config.check_valid_configuration()
    except (ValueError, TypeError, KeyError) as exc:
        raise ValueError(f"point to evaluate {dict(partial)!r} is not a valid configuration: {exc}") from exc
    return config_to_dict(config)


class InitialDesign:
    """A queue of complete configurations, checked before the run starts.

    Parameters
    ----------
    configspace : ConfigurationSpace
    points : iterable of dict
        Possibly partial configurations.
    """

    def __init__(self, configspace: ConfigurationSpace, points: Iterable[Mapping[str, Any]] | None) -> None:
        self._queue: deque[dict[str, Any]] = deque(
            complete_configuration(configspace, p) for p in (points or [])
        )
        self.size = len(self._queue)

    def __len__(self) -> int:
        return len(self._queue)

    def pop(self) -> dict[str, Any] | None:
        """The next configuration, or None once all were handed out."""
        return self._queue.popleft() if self._queue else None
