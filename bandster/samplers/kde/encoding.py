"""Between ConfigSpace configurations and the arrays the KDE works on, vectorised over many rows.

The *full* vector is ConfigSpace's vector form (one entry per hyperparameter in ``cs`` order; floats and
integers normalised to [0, 1], log scale handled by ConfigSpace; categorical and ordinal values as
level indices; NaN for inactive). The *model* vector keeps only the columns that vary: Constants
(and categoricals/ordinals/integers with a single value) are not modelled and are filled back from the
space.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
from ConfigSpace import Configuration, ConfigurationSpace
from ConfigSpace.conditions import AndConjunction, Conjunction, OrConjunction
from ConfigSpace.hyperparameters import (
    CategoricalHyperparameter,
    IntegerHyperparameter,
    OrdinalHyperparameter,
)
from ConfigSpace.util import check_configuration

logger = logging.getLogger(__name__)

__all__ = ["SpaceEncoding"]


def _satisfied(condition: Any, arr: np.ndarray) -> np.ndarray:
    """Condition mask over the columns of ``arr`` (shape ``(D, n)``); an inactive parent never satisfies."""
    if isinstance(condition, Conjunction):
        masks = [_satisfied(c, arr) for c in condition.components]
        if isinstance(condition, OrConjunction):
            return np.logical_or.reduce(masks)
        if isinstance(condition, AndConjunction):
            return np.logical_and.reduce(masks)
        return condition.satisfied_by_vector_array(arr)  # pragma: no cover - unknown conjunction type
    parent = arr[condition.parent_vector_id]
    with np.errstate(invalid="ignore"):
        return np.asarray(condition.satisfied_by_vector_array(arr), dtype=bool) & ~np.isnan(parent)


class SpaceEncoding:
    """Vector encoding of a ConfigurationSpace for KDE modelling.

    Parameters
    ----------
    configspace : ConfigSpace.ConfigurationSpace

    Attributes
    ----------
    names : list of str
        Hyperparameter names in vector order.
    model_columns : numpy.ndarray of int
        Indices (into the full vector) of the modelled, non-constant hyperparameters.
    var_types : str
        KDE column type of each modelled column: ``'c'`` (float or integer), ``'u'`` (categorical),
        ``'o'`` (ordinal).
    num_levels : numpy.ndarray of int
        Number of levels per modelled column (0 for continuous).

    Examples
    --------
    >>> from ConfigSpace import ConfigurationSpace, Float, Categorical, Constant
    >>> cs = ConfigurationSpace({'lr': (1e-4, 1.0), 'opt': ['adam', 'sgd'], 'k': 'fixed'})
    >>> enc = SpaceEncoding(cs)
    >>> enc.names, enc.var_types, enc.dim
    (['k', 'lr', 'opt'], 'cu', 2)
    >>> full, unknown = enc.encode({'lr': 0.5, 'opt': 'sgd', 'zzz': 1})
    >>> full.round(3).tolist(), unknown
    ([1.0, 0.5, 1.0], ['zzz'])
    >>> enc.to_model(full).round(3).tolist()
    [0.5, 1.0]
    """

    def __init__(self, configspace: ConfigurationSpace) -> None:
        self.configspace = configspace
        self.names: list[str] = list(configspace.keys())
        self.index_of = {name: i for i, name in enumerate(self.names)}
        self._hps = [configspace[name] for name in self.names]
        full_dim = len(self.names)
        self._fill = np.full(full_dim, np.nan)
        model_columns, var_types, levels, int_cols = [], [], [], []
        for i, hp in enumerate(self._hps):
            self._fill[i] = float(hp.to_vector(hp.default_value))
            if not hp.size > 1:
                continue  # Constant, or a single-valued categorical/ordinal/integer: not modelled
            if isinstance(hp, OrdinalHyperparameter):
                var_types.append("o")
                levels.append(len(hp.sequence))
            elif isinstance(hp, CategoricalHyperparameter):
                var_types.append("u")
                levels.append(len(hp.choices))
            else:
                if isinstance(hp, IntegerHyperparameter):
                    int_cols.append(len(model_columns))
                var_types.append("c")
                levels.append(0)
            model_columns.append(i)
        self.model_columns = np.asarray(model_columns, dtype=np.intp)
        self._unmodelled = np.ones(full_dim, dtype=bool)
        self._unmodelled[self.model_columns] = False
        self.var_types = "".join(var_types)
        self.num_levels = np.asarray(levels, dtype=np.intp)
        self._int_columns = int_cols
        # ConfigSpace orders hyperparameters so that parents come before their children.
        conditions = list(configspace.conditions)
        self._conditions = sorted(((self.index_of[c.child.name], c) for c in conditions), key=lambda item: item[0])
        self._forbiddens = list(configspace.forbidden_clauses)

    @property
    def dim(self) -> int:
        """Number of modelled (non-constant) hyperparameters, d."""
        return len(self.model_columns)

    @property
    def full_dim(self) -> int:
        """Number of hyperparameters in the space."""
        return len(self.names)

    # ------------------------------------------------------------------ configs -> vectors
    def encode(self, config: Mapping[str, Any]) -> tuple[np.ndarray, list[str]]:
        """Full vector of one configuration dict, inactive and missing values NaN.

        Unknown names are returned (not raised); a value ConfigSpace cannot encode or that lies
        outside the hyperparameter's range becomes NaN with a warning. Values given for hyperparameters
        that are inactive under the config's own values are dropped.

        Returns
        -------
        (numpy.ndarray, list of str)
            The full vector and the unknown names.
        """
        vector = np.full(self.full_dim, np.nan)
        unknown = []
        for name, value in config.items():
            i = self.index_of.get(name)
            if i is None:
                unknown.append(str(name))
                continue
            if value is None:
                continue
            hp = self._hps[i]
            try:
                v = float(hp.to_vector(value))
                legal = bool(hp.legal_vector(v))
            except Exception as exc:  # any ConfigSpace complaint means "cannot encode"
                logger.warning(
                    "value %r of hyperparameter %r cannot be encoded (%s); treated as missing", value, name, exc
                )
                continue
            if not legal:
                logger.warning("value %r of hyperparameter %r is outside its range; treated as missing", value, name)
                continue
            vector[i] = v
        constant = np.isnan(vector) & self._unmodelled
        vector[constant] = self._fill[constant]
        self.deactivate(vector[None, :])
        return vector, unknown

    # ------------------------------------------------------------------ model <-> full
    def to_model(self, full: np.ndarray) -> np.ndarray:
        """The modelled columns of full vectors, shape ``(n, d)``."""
        return np.asarray(full, dtype=float)[..., self.model_columns]

    def to_full(self, model: np.ndarray) -> np.ndarray:
        """Full vectors from model vectors, constants filled from the space; inactive not yet set."""
        model = np.atleast_2d(model)
        full = np.tile(self._fill, (model.shape[0], 1))
        full[:, self.model_columns] = model
        return full

    def snap(self, model: np.ndarray) -> np.ndarray:
        """Round integer hyperparameters' columns (in place) onto their legal vector values."""
        for j in self._int_columns:
            hp = self._hps[self.model_columns[j]]
            model[:, j] = hp.to_vector(hp.to_value(np.clip(model[:, j], 0.0, 1.0)))
        return model

    # ------------------------------------------------------------------ validity
    def deactivate(self, full: np.ndarray) -> np.ndarray:
        """Set inactive hyperparameters to NaN, in place, for every row of ``full`` (shape ``(n, D)``)."""
        arr = full.T  # ConfigSpace's vectorised checks take (D, n)
        for child, condition in self._conditions:
            arr[child, ~_satisfied(condition, arr)] = np.nan
        return full

    def forbidden(self, full: np.ndarray) -> np.ndarray:
        """Boolean mask of the rows of ``full`` (inactive already NaN) that violate a forbidden clause."""
        arr = full.T
        mask = np.zeros(full.shape[0], dtype=bool)
        with np.errstate(invalid="ignore"):
            for clause in self._forbiddens:
                mask |= np.asarray(clause.is_forbidden_vector_array(arr), dtype=bool)
        return mask

    def to_configuration(self, vector: np.ndarray) -> Configuration:
        """A validated ``Configuration`` from a full vector (raises a ConfigSpace error if invalid)."""
        vector = np.asarray(vector, dtype=float)
        check_configuration(self.configspace, vector)
        return Configuration(self.configspace, vector=vector)
