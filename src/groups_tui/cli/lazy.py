"""Subcommands imported only when they run, so that ``--help`` and the TUI start fast.

A :class:`LazyGroup` names each subcommand by ``"module:attribute"`` and its one-line help;
the module is imported when the command is looked up to run (or for its own ``--help``),
never to list the group's commands. ``tests/unit/app/test_cli_lazy.py`` checks that every
listed help line is the command's own.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

import click

__all__ = ["LazyCommand", "LazyGroup"]


@dataclass(frozen=True)
class LazyCommand:
    """Where a subcommand lives and what ``--help`` says of it without importing it.

    Attributes:
        target: ``"package.module:attribute"`` of the click command.
        short_help: Its one-line help, as its own docstring's first line says it.
        children: Further subcommands to add to it when it is a group (by name).
    """

    target: str
    short_help: str
    children: dict[str, LazyCommand] = field(default_factory=dict)

    def load(self) -> click.Command:
        """Import the command (and add its lazy children to it)."""
        module_name, _, attribute = self.target.partition(":")
        command: object = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{self.target} is not a click command")
        if self.children:
            if not isinstance(command, click.Group):
                raise TypeError(f"{self.target} has children but is not a click group")
            for name, child in self.children.items():
                if name not in command.commands:
                    command.add_command(child.load(), name)
        return command


class LazyGroup(click.Group):
    """A click group whose commands may be :class:`LazyCommand` entries.

    Args:
        lazy_commands: Subcommands by name, imported only when looked up.
    """

    def __init__(
        self, *args: Any, lazy_commands: dict[str, LazyCommand] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands: dict[str, LazyCommand] = dict(lazy_commands or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        lazy = self.lazy_commands.get(cmd_name)
        if lazy is not None and cmd_name not in self.commands:
            self.add_command(lazy.load(), cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list, with lazy commands' help taken from their entries."""
        rows: list[tuple[str, str]] = []
        limit = formatter.width - 6 - max((len(n) for n in self.list_commands(ctx)), default=0)
        for name in self.list_commands(ctx):
            lazy = self.lazy_commands.get(name)
            if lazy is not None and name not in self.commands:
                rows.append((name, lazy.short_help))
                continue
            command = self.commands.get(name)
            if command is None or command.hidden:
                continue
            rows.append((name, command.get_short_help_str(limit)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)
