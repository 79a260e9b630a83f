"""Maintenance: an online backup of the database and its integrity check."""

from __future__ import annotations

from pathlib import Path

from groups_tui.service.core import ServiceCore
from groups_tui.service.types import BackupResult, DatabaseCheck

__all__ = ["Maintenance"]


class Maintenance:
    """The database file itself: backups and checks (safe beside a running listener).

    Args:
        core: The shared store and settings.
    """

    def __init__(self, core: ServiceCore) -> None:
        self._store = core.store

    async def backup(self, dest: Path) -> BackupResult:
        """Copy the database to `dest` as of one commit, while others keep writing.

        Args:
            dest: The file to write (replaced only once the copy has passed its check).

        Returns:
            The backup and the check of the copy.
        """
        return await self._store.maintenance.backup(dest)

    async def check(self) -> DatabaseCheck:
        """Integrity check, foreign key check and rows per table."""
        return await self._store.maintenance.check()
