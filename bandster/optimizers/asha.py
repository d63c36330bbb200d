"""Earlier path of ASHA's rung logic; it lives in :mod:`bandster.schedulers.asha` (``Decision`` is now
``RungDecision`` there)."""

from bandster.schedulers.asha import (
    AsyncSchedule,
    RungDecision,
    RungLadder,
    bracket_weights,
    choose_bracket,
    hyperband_budget,
    ranking_loss,
)

Decision = RungDecision

__all__ = ["AsyncSchedule", "Decision", "RungLadder", "bracket_weights", "choose_bracket", "hyperband_budget",
           "ranking_loss"]
