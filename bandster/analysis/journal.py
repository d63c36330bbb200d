"""Reading a run journal for analysis: finding it, its manifest and events, and whether a master holds it.

Everything here only reads: it never takes the journal's lock for longer than a non-blocking probe, and a
torn or garbled line is skipped with a warning, so it is safe on a run that is still being written.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from bandster.core.journal import (
    CONFIGS_FILENAME,
    EVENTS_FILENAME,
    MANIFEST_FILENAME,
    RESULTS_FILENAME,
    RUNS_DIRNAME,
    lock_holder,
)

logger = logging.getLogger(__name__)

__all__ = ["find_journal", "is_journal", "read_manifest", "read_events", "journal_is_live"]


def is_journal(directory: str | os.PathLike) -> bool:
    """True when ``directory`` holds a run journal (``configs.json``, ``results.json`` or ``run.json``)."""
    directory = os.fspath(directory)
    return any(os.path.isfile(os.path.join(directory, name))
               for name in (CONFIGS_FILENAME, RESULTS_FILENAME, MANIFEST_FILENAME))


def find_journal(path: str | os.PathLike, run_id: str | None = None) -> str:
    """The journal directory that ``path`` names.

    Parameters
    ----------
    path : str or path-like
        A journal directory; or a working directory (or its ``bandster_runs`` folder), in which case the
        newest journal in it is taken (of ``run_id`` when given).
    run_id : str, optional
        Only consider journals of this run.

    Returns
    -------
    str
        An absolute path.

    Raises
    ------
    FileNotFoundError
        When there is no journal there, with what was looked for.
    """
    path = os.path.abspath(os.fspath(path))
    if not os.path.isdir(path):
        raise FileNotFoundError(f"{path} is not a directory; pass a run's journal directory "
                                f"(<working_directory>/{RUNS_DIRNAME}/<run_id>_<time>) or its working directory")
    if is_journal(path):
        return path
    parent = path if os.path.basename(path) == RUNS_DIRNAME else os.path.join(path, RUNS_DIRNAME)
    candidates = []
    if os.path.isdir(parent):
        for entry in os.scandir(parent):
            if not entry.is_dir() or not is_journal(entry.path):
                continue
            if run_id is not None and not entry.name.startswith(f"{run_id}_"):
                continue
            manifest = os.path.join(entry.path, MANIFEST_FILENAME)
            created = None
            if os.path.exists(manifest):
                created = (read_manifest(entry.path) or {}).get("created")
            if not isinstance(created, int | float):
                created = entry.stat().st_mtime
            candidates.append((created, entry.name, entry.path))
    if not candidates:
        which = f" of run {run_id!r}" if run_id is not None else ""
        raise FileNotFoundError(
            f"no run journal{which} in {path}: it holds neither {CONFIGS_FILENAME}/{RESULTS_FILENAME} nor a "
            f"{RUNS_DIRNAME}/ folder with journals"
        )
    return max(candidates)[2]


def read_manifest(directory: str | os.PathLike) -> dict | None:
    """``run.json`` of a journal as a dict, or None when it is missing or unreadable (logged)."""
    path = os.path.join(os.fspath(directory), MANIFEST_FILENAME)
    try:
        with open(path, encoding="utf-8") as fh:
            manifest = json.load(fh)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as err:
        logger.warning("%s cannot be read: %s", path, err)
        return None
    return manifest if isinstance(manifest, dict) else None


def read_events(directory: str | os.PathLike) -> list[dict[str, Any]]:
    """The events of a journal (``events.json``), in file order.

    Each is a dict with at least ``time`` (epoch seconds) and ``event`` (its kind). A torn last line (a run
    being written, or one that was killed) or a garbled line is skipped with a warning; lines that are not
    such objects are skipped silently.
    """
    path = os.path.join(os.fspath(directory), EVENTS_FILENAME)
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
    except FileNotFoundError:
        return []
    events = []
    lines = text.split("\n")
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except ValueError:
            if number == len(lines):
                logger.warning("%s: skipping the torn last line %d (the run stopped while writing it)", path, number)
            else:
                logger.warning("%s: skipping garbled line %d: %.80r", path, number, line)
            continue
        if isinstance(event, dict) and isinstance(event.get("event"), str) and _is_number(event.get("time")):
            events.append(event)
    return events


def journal_is_live(directory: str | os.PathLike) -> bool:
    """True while a master (a :class:`~bandster.core.journal.Journal`) holds the journal's lock
    (:func:`bandster.core.journal.lock_holder`)."""
    return lock_holder(directory) is not None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
