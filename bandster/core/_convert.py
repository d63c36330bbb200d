"""Turning values into plain Python builtins before they cross the network or reach the journal.

ConfigSpace 1.x configurations hold ``np.str_``, ``np.int64``, ``np.bool_`` values and budgets are often
``np.float64``; Pyro5's serpent serializer and ``json`` accept neither. Everything that leaves a process or
is written to disk goes through :func:`to_builtin` first.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

_SCALARS = (str, int, float, bool, type(None))


class UnserializableValue(ValueError):
    """Raised by :func:`to_builtin` with ``strict=True`` for a value that has no builtin form."""


def to_builtin(value: Any, *, path: str = "value", strict: bool = False) -> Any:
    """Return ``value`` made of builtins only (dict, list, str, int, float, bool, None).

    numpy scalars become Python scalars, numpy arrays and tuples become lists, dict keys become
    strings where needed. A value with no builtin form (a DataFrame, an arbitrary object) is replaced by
    its ``repr`` with a warning naming ``path``, or raises :class:`UnserializableValue` when ``strict``.

    Examples
    --------
    >>> import numpy as np
    >>> to_builtin({'a': np.int64(3), 'b': np.array([1.5, 2.0]), 'c': np.str_('x')})
    {'a': 3, 'b': [1.5, 2.0], 'c': 'x'}
    """
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str):
        return str(value)  # np.str_ is a subclass of str
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, np.generic):
        return to_builtin(value.item(), path=path, strict=strict)
    if isinstance(value, np.ndarray):
        return to_builtin(value.tolist(), path=path, strict=strict)
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            key = to_builtin(k, path=path, strict=strict)
            if not isinstance(key, str | int | float | bool) and key is not None:
                key = repr(key)
            out[key] = to_builtin(v, path=f"{path}[{k!r}]", strict=strict)
        return out
    if isinstance(value, list | tuple | set | frozenset):
        return [to_builtin(v, path=f"{path}[{i}]", strict=strict) for i, v in enumerate(value)]
    if strict:
        raise UnserializableValue(f"{path} of type {type(value).__name__} cannot be serialized")
    logger.warning(
        "%s of type %s cannot be sent or journaled as JSON; it is kept as its repr()",
        path,
        type(value).__name__,
    )
    return repr(value)


def config_to_dict(config: Any) -> dict[str, Any]:
    """Return a ConfigSpace ``Configuration`` (or any mapping) as a dict of builtins."""
    return {str(k): to_builtin(v, path=f"config[{k!r}]") for k, v in dict(config).items()}


def is_finite_loss(loss: Any) -> bool:
    """True when ``loss`` is a real number (not bool) and finite."""
    if type(loss) is float:  # the usual case, first
        return loss - loss == 0.0  # NaN and infinities give NaN
    if isinstance(loss, bool) or not isinstance(loss, int | float | np.integer | np.floating):
        return False
    return math.isfinite(float(loss))


def loss_for_ranking(result: Any) -> float:
    """The loss used for promotion and modelling: the finite loss, or +inf for any failure."""
    if isinstance(result, Mapping) and is_finite_loss(result.get("loss")):
        return float(result["loss"])
    return math.inf
