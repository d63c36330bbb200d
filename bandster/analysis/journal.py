"""Compatibility module: finding a journal and reading its manifest and events moved to
:mod:`bandster.records.format`, the one module that owns the journal's format; re-exported here."""

from bandster.records.format import find_journal, is_journal, journal_is_live, read_events, read_manifest

__all__ = ["find_journal", "is_journal", "read_manifest", "read_events", "journal_is_live"]
