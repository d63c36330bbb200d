"""Kernel density estimation for BOHB: product kernels over ConfigSpace's vector form, in numpy.

* :mod:`~bandster.samplers.kde.kernels`: the one-dimensional kernels (Gaussian truncated to [0, 1],
  Aitchison–Aitken, Wang–Ryzin) and their samplers;
* :mod:`~bandster.samplers.kde.bandwidth`: the normal-reference bandwidth rule, made valid per kernel;
* :mod:`~bandster.samplers.kde.product_kde`: :class:`ProductKDE`, densities and sampling;
* :mod:`~bandster.samplers.kde.encoding`: :class:`SpaceEncoding`, between ConfigSpace
  configurations and the arrays the KDE works on.
"""

from bandster.samplers.kde.bandwidth import normal_reference_bandwidths
from bandster.samplers.kde.encoding import SpaceEncoding
from bandster.samplers.kde.product_kde import ProductKDE

__all__ = ["ProductKDE", "SpaceEncoding", "normal_reference_bandwidths"]
