"""The interface every config generator implements: ``get_config(budget)`` and ``new_result(job)``."""

from __future__ import annotations

import logging
from typing import Any

from bandster.core.job import Job


class base_config_generator:  # noqa: N801 - HpBandSter's public name
    """Base class of the samplers that propose configurations.

    Subclasses implement :meth:`get_config`; they may override :meth:`new_result` to learn from
    finished evaluations. Config generators know nothing of threads or the network, so they can be
    used on their own (see the ask-and-tell section of the docs).

    Parameters
    ----------
    logger : logging.Logger, optional
        Defaults to ``logging.getLogger(<module of the subclass>)``.
    """

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.logger = logger if logger is not None else logging.getLogger(type(self).__module__)

    def get_config(self, budget: float) -> tuple[dict[str, Any], dict[str, Any]]:
        """Return ``(config, config_info)`` for a run on ``budget``.

        ``config`` is a dict of builtins; ``config_info`` describes how it was chosen, e.g.
        ``{'model_based_pick': True}``.
        """
        raise NotImplementedError(
            f"{type(self).__name__}.get_config(budget) is not implemented: "
            "subclass base_config_generator and return (config_dict, info_dict)"
        )

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
