"""Kernel density estimation for BOHB: product kernels over ConfigSpace's vector form, in numpy.

* :mod:`~bandster.optimizers.kde.kernels`: the one-dimensional kernels (Gaussian truncated to [0, 1],
  Aitchison–Aitken, Wang–Ryzin) and their samplers;
* :mod:`~bandster.optimizers.kde.bandwidth`: the normal-reference bandwidth rule, made valid per kernel;
* :mod:`~bandster.optimizers.kde.product_kde`: :class:`ProductKDE`, densities and sampling;
* :mod:`~bandster.optimizers.kde.encoding`: :class:`SpaceEncoding`, between ConfigSpace
  configurations and the arrays the KDE works on.
"""

from bandster.optimizers.kde.bandwidth import normal_reference_bandwidths
from bandster.optimizers.kde.encoding import SpaceEncoding
from bandster.optimizers.kde.product_kde import ProductKDE

__all__ = ["ProductKDE", "SpaceEncoding", "normal_reference_bandwidths"]
