"""What an optimizer minimises: the ``metric`` key of the results, in ``mode`` ``"min"`` or ``"max"``.

Every optimizer class and :func:`bandster.optimize` take ``metric`` and ``mode``. Internally bandster always
minimises ``loss``: with ``mode="max"`` the loss is the negated metric. The worker checks that its result holds
the metric (the job message names it); the master (the runner, one place for every backend) turns the result
into ``{'loss': ..., 'info': {..., metric: value as returned}}`` and an intermediate report's value into a loss.
``run.json`` records both, so ``Result``, ``bandster status``, ``bandster report`` and the plots show the metric
as the objective returned it (:meth:`Metric.shown`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

__all__ = ["Metric"]


class Metric:
    """The metric an optimizer optimises.

    Parameters
    ----------
    name : str
        The key of the result dict that holds the metric (``"loss"``: HpBandSter's results as they are).
    mode : {"min", "max"}
        Minimise or maximise it.

    Examples
    --------
    >>> m = Metric("accuracy", "max")
    >>> m.to_result({"accuracy": 0.9, "info": {"epochs": 3}})
    {'loss': -0.9, 'info': {'epochs': 3, 'accuracy': 0.9}}
    >>> m.shown(-0.9), m.label
    (0.9, 'accuracy (max)')
    >>> Metric().is_default
    True
    """

    def __init__(self, name: str = "loss", mode: str = "min") -> None:
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        if not isinstance(name, str) or not name or name == "info":
            raise ValueError(f"metric must be a non-empty string (a key of the objective's dict other than "
                             f"'info'), got {name!r}")
        self.name = name
        self.mode = mode

    @property
    def is_default(self) -> bool:
        """True for ``loss`` minimised: results are recorded as they are."""
        return self.name == "loss" and self.mode == "min"

    @property
    def sign(self) -> float:
        """``loss = sign * metric``."""
        return -1.0 if self.mode == "max" else 1.0

    @property
    def label(self) -> str:
        """How tables and figures name the metric: ``loss``, or e.g. ``accuracy (max)``."""
        return "loss" if self.is_default else f"{self.name} ({self.mode})"

    @property
    def best(self) -> str:
        """``lowest loss``, ``highest accuracy``: what the incumbent has."""
        return f"{'highest' if self.mode == 'max' else 'lowest'} {self.name}"

    def to_loss(self, value: float) -> float:
        """An intermediate report's value (in the metric's units) as a loss."""
        return self.sign * float(value)

    def shown(self, loss: Any) -> Any:
        """A recorded loss as the metric the objective returned (None stays None)."""
        if loss is None or (isinstance(loss, float) and math.isnan(loss)):
            return loss
        return self.sign * loss if self.mode == "max" else loss

    def to_result(self, result: Mapping[str, Any]) -> dict[str, Any]:
        """A checked result (:func:`bandster.core.protocol.check_result` with this metric) as bandster records it:
        ``loss`` is the metric (negated for ``max``), ``info`` holds the metric as returned and the dict's other
        entries. A job stopped at a report carries the reported value as ``loss``."""
        if self.is_default:
            return dict(result)
        stopped = self.name not in result  # a stopped job: the reported value is its loss
        value = result.get("loss") if stopped else result[self.name]
        given = result.get("info")
        info = dict(given) if isinstance(given, Mapping) else ({} if given is None else {"info": given})
        for key, item in result.items():
            if key not in ("info", self.name) and not (stopped and key == "loss"):
                info.setdefault(str(key), item)
        info[self.name] = value
        return {"loss": None if value is None else self.sign * float(value), "info": info}

    def manifest(self) -> dict[str, str]:
        """What run.json records."""
        return {"name": self.name, "mode": self.mode}

    @classmethod
    def of(cls, result: Any) -> Metric:
        """The metric of a :class:`~bandster.records.result.Result` (its ``HB_config["metric"]``, set by the
        optimizer when it is not ``loss``/``min``); ``loss``/``min`` for anything else (a list of runs)."""
        return cls.from_manifest({"metric": (getattr(result, "HB_config", None) or {}).get("metric")})

    @classmethod
    def from_manifest(cls, manifest: Mapping[str, Any] | None) -> Metric:
        """The metric of a run from its run.json (``loss``/``min`` when it has none: runs before metrics, and
        HpBandSter-style runs)."""
        recorded = (manifest or {}).get("metric")
        if isinstance(recorded, Mapping):
            try:
                return cls(str(recorded.get("name", "loss")), str(recorded.get("mode", "min")))
            except ValueError:
                pass
        return cls()

    def __repr__(self) -> str:
        return f"Metric({self.name!r}, {self.mode!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Metric) and (self.name, self.mode) == (other.name, other.mode)

    def __hash__(self) -> int:
        return hash((self.name, self.mode))
