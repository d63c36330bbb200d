"""HpBandSter-style path of the asynchronous iterations; they live in :mod:`bandster.schedulers.asha`."""

from bandster.schedulers.asha import AsyncBrackets, AsynchronousIteration

__all__ = ["AsyncBrackets", "AsynchronousIteration"]
