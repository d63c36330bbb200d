"""HpBandSter-style path of the budget arithmetic; it lives in :mod:`bandster.schedulers.brackets`."""

from bandster.schedulers.brackets import *  # noqa: F401,F403
from bandster.schedulers.brackets import __all__  # noqa: F401
