"""What the operator chose in the TUI and finds again after a restart: the theme, the
inbox's sort order and which of its optional columns are shown.

They are kept in ``preferences.json`` in the data directory (beside the databases),
written whole on each change (to a temporary file, then renamed, so a crash never
leaves half a file). A file that cannot be read is moved aside to ``*.unreadable`` (its
content is kept for the operator) and the defaults are used; a value this version does
not know is ignored, never a crash.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["OPTIONAL_COLUMNS", "Preferences", "PreferencesFile"]

OPTIONAL_COLUMNS: tuple[str, ...] = ("members", "unread", "requests", "activity", "window")
"""The inbox columns the operator may hide (the marks, subject and last message stay)."""


@dataclass(frozen=True, slots=True)
class Preferences:
    """The operator's choices.

    Attributes:
        theme: The Textual theme's name, ``None`` for the default.
        inbox_sort: The inbox's sort mode (``activity``, ``closing``, ``unread``), ``None``
            for the default.
        hidden_columns: Optional inbox columns not shown (names from
            :data:`OPTIONAL_COLUMNS`).
    """

    theme: str | None = None
    inbox_sort: str | None = None
    hidden_columns: frozenset[str] = field(default_factory=frozenset)

    def to_json(self) -> dict[str, Any]:
        """The file's content."""
        return {
            "theme": self.theme,
            "inbox_sort": self.inbox_sort,
            "hidden_columns": sorted(self.hidden_columns),
        }

    @classmethod
    def from_json(cls, data: object) -> Preferences:
        """Read the file's content, keeping only values of the expected types."""
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        theme = data.get("theme")
        sort = data.get("inbox_sort")
        hidden = data.get("hidden_columns")
        return cls(
            theme=theme if isinstance(theme, str) and theme else None,
            inbox_sort=sort if isinstance(sort, str) and sort else None,
            hidden_columns=frozenset(
                c for c in (hidden if isinstance(hidden, list) else []) if c in OPTIONAL_COLUMNS
            ),
        )


class PreferencesFile:
    """The preferences as kept in one file."""

    def __init__(self, path: Path) -> None:
        """Use the file at `path` (created on the first change).

        Args:
            path: Usually ``<data dir>/preferences.json``.
        """
        self.path = path
        self.problem: str | None = None
        """Why the file could not be read, once :meth:`load` found it unreadable."""

    def load(self) -> Preferences:
        """The saved preferences; the defaults when there is no file or it is unreadable
        (then :attr:`problem` says why and where its content was moved)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return Preferences()
        except OSError as exc:
            self.problem = f"cannot read {self.path}: {exc.strerror or exc}"
            return Preferences()
        try:
            return Preferences.from_json(json.loads(text))
        except ValueError as exc:
            aside = self.path.with_name(self.path.name + ".unreadable")
            try:
                os.replace(self.path, aside)
                where = f"moved to {aside}"
            except OSError:
                where = "left in place"
            self.problem = f"{self.path} is not valid preferences ({exc}); {where}"
            return Preferences()

    def save(self, preferences: Preferences) -> None:
        """Write the preferences whole (temporary file, then rename).

        Raises:
            OSError: The data directory cannot be written.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(preferences.to_json(), indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, self.path)
