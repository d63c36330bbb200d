"""When a long wait says what it waits for: after a few seconds, then again every few seconds.

Every wait in bandster that can last longer than a few seconds (a worker waiting for its name server or
its master, a master waiting for workers) logs at WARNING, so that it is visible with Python's default
logging configuration, what is missing and how to supply it. :class:`WaitWarnings` tells such a loop when.

Examples
--------
>>> clock = WaitWarnings(interval=5.0)
>>> clock.due()   # not yet: the first warning comes after ``interval`` seconds
False
>>> 0.0 < clock.until_next() <= 5.0
True
"""

from __future__ import annotations

import time

#: seconds before a wait is first reported, and between two reports
WARNING_INTERVAL = 5.0


class WaitWarnings:
    """The schedule of a waiting loop's warnings: the first after ``interval`` s, then every ``interval`` s.

    Parameters
    ----------
    interval : float, optional
        Seconds before the first warning, and between two warnings (default: :data:`WARNING_INTERVAL`).
    """

    def __init__(self, interval: float | None = None) -> None:
        self.interval = float(WARNING_INTERVAL if interval is None else interval)
        self.start = time.monotonic()
        self._next = self.start + self.interval

    @property
    def waited(self) -> float:
        """Seconds since the wait began."""
        return time.monotonic() - self.start

    def due(self) -> bool:
        """True if a warning is due now (the next one is then scheduled ``interval`` s later)."""
        now = time.monotonic()
        if now < self._next:
            return False
        self._next = now + self.interval
        return True

    def until_next(self) -> float:
        """Seconds until the next warning is due (how long the loop may wait before it checks again)."""
        return max(0.0, self._next - time.monotonic())
