"""``--number LABEL|ID`` is on every verb where a number matters (issue: several numbers)."""

from __future__ import annotations

import click

from groups_tui.cli import main

WITHOUT_NUMBER = {
    "completion": "prints a shell script",
    "config path": "prints a path",
    "db backup": "the whole database file",
    "db check": "the whole database file",
    "listen": "one endpoint serves every configured number",
    "sandbox": "simulates numbers (--numbers N)",
    "web": "serves the TUI, which shows every number",
    "events show": "one delivery by id",
    "events stats": "counts the whole log, other numbers' deliveries apart",
    "events replay": "replays the log, each event routed by the number it names",
    "automations status": "rules and targets by name (a rule's group has its number)",
    "automations pause": "a rule or target by name",
    "automations resume": "a rule or target by name",
    "automations runs": "runs of rules and targets by name",
    "automations run": "runs every rule, each through its group's number",
    "serve": "one daemon serves every configured number",
    "whoami": "a role is the user's, whatever the number",
}
"""The verbs without ``--number``, and why."""


def _verbs(command: click.Command, path: tuple[str, ...] = ()) -> dict[str, click.Command]:
    if not isinstance(command, click.Group):
        return {" ".join(path): command}
    ctx = click.Context(command)
    found: dict[str, click.Command] = {}
    for name in command.list_commands(ctx):
        child = command.get_command(ctx, name)
        assert child is not None, name
        found |= _verbs(child, (*path, name))
    return found


def test_every_verb_takes_number_but_those_where_it_does_not_matter() -> None:
    verbs = _verbs(main)
    assert set(WITHOUT_NUMBER) <= set(verbs)
    missing = {
        name
        for name, command in verbs.items()
        if name not in WITHOUT_NUMBER
        and "--number" not in {o for p in command.params for o in getattr(p, "opts", ())}
    }
    assert missing == set()
    labelled = [
        p
        for name, command in verbs.items()
        if name not in WITHOUT_NUMBER
        for p in command.params
        if "--number" in getattr(p, "opts", ())
    ]
    assert all(isinstance(p, click.Option) and p.metavar == "LABEL|ID" for p in labelled)
