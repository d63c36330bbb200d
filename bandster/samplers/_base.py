"""The sampler interface: propose configurations (``get_config``) and learn from results (``new_result``).

Samplers know nothing of threads, the network or budgets' schedule: a scheduler asks them for a configuration for a
budget and tells them every finished job. HpBandSter called them config generators; its base class
:class:`bandster.core.base_config_generator.base_config_generator` is a :class:`Sampler`.
"""

from __future__ import annotations

import abc
import logging
from typing import Any

from bandster.core.job import Job

__all__ = ["Sampler", "base_config_generator"]


class Sampler(abc.ABC):
    """Proposes configurations for a scheduler.

    Subclasses implement :meth:`get_config`; they may override :meth:`new_result` to learn from finished
    evaluations.

    Parameters
    ----------
    logger : logging.Logger, optional
        Defaults to ``logging.getLogger(<module of the subclass>)``.

    Examples
    --------
    >>> class Grid(Sampler):
    ...     def __init__(self, values):
    ...         super().__init__()
    ...         self.values = list(values)
    ...     def get_config(self, budget):
    ...         return {'x': self.values.pop(0)}, {'model_based_pick': False}
    >>> Grid([0.1, 0.2]).get_config(1.0)
    ({'x': 0.1}, {'model_based_pick': False})
    """

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.logger = logger if logger is not None else logging.getLogger(type(self).__module__)

    @abc.abstractmethod
    def get_config(self, budget: float) -> tuple[dict[str, Any], dict[str, Any]]:
        """Return ``(config, config_info)`` for a run on ``budget``.

        ``config`` is a dict of builtins; ``config_info`` describes how it was chosen, e.g.
        ``{'model_based_pick': True}``.
        """

    def new_result(self, job: Job, update_model: bool = True) -> None:
        """Learn from a finished job. The base class only logs failed jobs.

        Parameters
        ----------
        job : Job
            With ``job.kwargs['config']``, ``job.kwargs['budget']``, ``job.result`` (None on failure)
            and ``job.exception``.
        update_model : bool
            False while a batch of results is being fed (e.g. on warm start); the model is refit
            once the last one arrives.
        """
        if job.exception is not None:
            from bandster.core.protocol import error_summary

            self.logger.warning("job %s on budget %s failed: %s", job.id, job.kwargs.get("budget"),
                                error_summary(job.exception))


class base_config_generator(Sampler):  # noqa: N801 - HpBandSter's public name
    """HpBandSter's base class of config generators: a :class:`Sampler` whose :meth:`get_config` raises until a
    subclass implements it (importable as ``bandster.core.base_config_generator.base_config_generator``).

    Parameters
    ----------
    logger : logging.Logger, optional
        Defaults to ``logging.getLogger(<module of the subclass>)``.
    """

    def get_config(self, budget: float) -> tuple[dict[str, Any], dict[str, Any]]:
        """Return ``(config, config_info)`` for a run on ``budget``."""
        raise NotImplementedError(
            f"{type(self).__name__}.get_config(budget) is not implemented: "
            "subclass base_config_generator and return (config_dict, info_dict)"
        )
