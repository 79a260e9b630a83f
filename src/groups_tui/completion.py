"""Shell completion: ``groups-tui completion bash|zsh|fish`` and group ids from the store.

Click completes commands and options itself when the shell sets ``_GROUPS_TUI_COMPLETE``;
the script that makes the shell do so is what ``groups-tui completion SHELL`` prints.
Group ids complete from the local database (the live one, or the sandbox's when no
credentials are configured), opened read-only: no network, no Textual, and any problem
(no database yet, a bad config file) completes nothing rather than disturbing the shell.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import click
from click.shell_completion import CompletionItem, get_completion_class

from groups_tui.domain.text import one_line, visible

__all__ = ["COMPLETE_VAR", "SHELLS", "complete_group_id", "completion_command", "group_ids"]

COMPLETE_VAR = "_GROUPS_TUI_COMPLETE"
"""The environment variable click reads to answer a completion request."""

SHELLS = ("bash", "zsh", "fish")


def _database() -> Path | None:
    from groups_tui.config import ConfigError, load_settings

    try:
        settings = load_settings()
    except ConfigError:
        return None
    path = settings.db_path if settings.is_live else settings.sandbox_db_path
    return path if path.exists() else None


async def _read_ids(path: Path) -> list[tuple[str, str]]:
    from groups_tui.runtime import open_readonly_service

    async with open_readonly_service(path) as service:
        rows = await service.reading.inbox_rows()
    return [(row.group_id, row.subject) for row in rows if row.group_id]


def group_ids(path: Path | None = None) -> list[tuple[str, str]]:
    """``(group id, subject)`` of every group in the local database, most recent first.

    Args:
        path: The database; by default the one the CLI would use.

    Returns:
        Nothing when there is no database (or it cannot be read).
    """
    path = path if path is not None else _database()
    if path is None:
        return []
    try:
        return asyncio.run(_read_ids(path))
    except Exception:  # completion must never break the operator's shell
        if os.environ.get("GROUPS_TUI_DEBUG"):
            raise
        return []


def complete_group_id(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """Group ids starting with ``incomplete``, each with its subject as help (zsh, fish)."""
    return [
        CompletionItem(group_id, help=visible(one_line(subject))[:60] or None)
        for group_id, subject in group_ids()
        if group_id.startswith(incomplete)
    ]


@click.command("completion")
@click.argument("shell", type=click.Choice(SHELLS))
def completion_command(shell: str) -> None:
    """Print the completion script for SHELL (bash, zsh or fish).

    \b
    bash:  eval "$(groups-tui completion bash)"     (in ~/.bashrc)
    zsh:   eval "$(groups-tui completion zsh)"      (in ~/.zshrc)
    fish:  groups-tui completion fish > ~/.config/fish/completions/groups-tui.fish
    """
    root = click.get_current_context().find_root().command
    cls = get_completion_class(shell)
    if cls is None:  # pragma: no cover - click knows the three shells
        raise click.UsageError(f"no completion for {shell}")
    click.echo(cls(root, {}, "groups-tui", COMPLETE_VAR).source())
