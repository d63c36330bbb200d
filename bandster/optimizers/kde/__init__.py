"""Earlier path of BOHB's product-kernel KDE; it lives in :mod:`bandster.samplers.kde`."""

from bandster.samplers.kde import *  # noqa: F401,F403
from bandster.samplers.kde import __all__  # noqa: F401
