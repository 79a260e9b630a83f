"""``groups list`` and the other list verbs over a varied database: the JSON is exactly
what the object-by-object encoder wrote, and plain output keeps one record per line.

The database is real (a SQLite file written through the store, as the listener writes
it); the CLI runs in-process on it with live credentials pointing at a closed port (every
verb here reads local state only).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from groups_tui.cli import main
from groups_tui.config import load_settings
from groups_tui.domain.events import (
    GroupCreated,
    InboundMessage,
    JoinRequestCreated,
    ParticipantRef,
    ParticipantsJoined,
)
from groups_tui.domain.models import MessageKind
from groups_tui.domain.text import UNSAFE_CODE_POINTS
from groups_tui.jsonable import dumps, to_jsonable
from groups_tui.runtime import open_live_service
from groups_tui.store import Store

US, BR = "106540352242922", "106540352242923"
GROUPS = 530
"""More than one batch of the JSON encoder (500 rows)."""

HOSTILE = [
    "\x1b]52;c;UFdORUQ=\x07",
    "C1\x9b31m",
    "DEL\x7f",
    "\u202eevil\u202c",
    "\u2066iso\u2069\u200e\u200f\u061c",
    "nul\x00",
    "100% %s %(x)s",
    '"quoted" \\ back',
    "two\nlines",
    "tab\there",
    "cr\rhere",
    "sep\u2028par\u2029",
    "Sofía 🎉 नमस्ते",
    "[bold]x[/]",
]

BROKEN_SUBJECT = "first line\nsecond\tcolumn"
"""The subject of the report: it spilled onto two lines and an extra column."""


def _text(rng: random.Random) -> str:
    return "".join(rng.choice(HOSTILE) for _ in range(rng.randint(0, 3))) or "plain"


async def _fill(db: Path, seed: int) -> None:
    rng = random.Random(seed)
    store = await Store.open(db)
    try:
        events: list[Any] = []
        for i in range(GROUPS):
            gid = f"G{i:04d}"
            number = rng.choice([US, BR, None])
            at = rng.choice([1_700_000_000 + rng.randint(0, 90_000_000), 0, 86_399])
            subject = BROKEN_SUBJECT if i == 0 else f"{gid} {_text(rng)}"
            events.append(
                GroupCreated(
                    phone_number_id=number,
                    request_id=f"req-{i}",
                    group_id=gid,
                    subject=subject,
                    at=at,
                )
            )
            for j in range(rng.randint(0, 2)):
                who = ParticipantRef(wa_id=f"1555{i:04d}{j}", profile_name=_text(rng))
                events.append(ParticipantsJoined(group_id=gid, participants=(who,), at=at + j))
                if rng.random() < 0.6:
                    events.append(
                        InboundMessage(
                            wamid=f"wamid.{i}.{j}",
                            group_id=gid,
                            sender=who,
                            kind=MessageKind.TEXT,
                            type="text",
                            text=_text(rng),
                            at=at + 10 + j,
                        )
                    )
            if rng.random() < 0.1:
                events.append(
                    JoinRequestCreated(
                        group_id=gid,
                        join_request_id=f"jr{i}",
                        participant=ParticipantRef(wa_id=f"1666{i:04d}", profile_name=_text(rng)),
                        at=at + 20,
                    )
                )
        await store.raw.apply_events(None, events)
        for i in rng.sample(range(GROUPS), 40):
            await store.groups.annotate(f"G{i:04d}", flagged=rng.random() < 0.5, tag=_text(rng))
        await store.groups.create_pending("req-pending", "pending\tsubject")
    finally:
        await store.close()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    seed = random.randrange(2**32)
    print(f"database seed: {seed}")
    tmp = tmp_path_factory.mktemp("cli-listing")
    config = tmp / "config.toml"
    config.write_text(
        f'[[numbers]]\nphone_number_id = "{US}"\nlabel = "US"\n'
        f'[[numbers]]\nphone_number_id = "{BR}"\nlabel = "BR"\n'
    )
    os.chmod(config, 0o600)
    db = tmp / "live.db"
    asyncio.run(_fill(db, seed))
    yield {
        "GROUPS_TUI_CONFIG": str(config),
        "GROUPS_TUI_DB": str(db),
        "WHATSAPP_ACCESS_TOKEN": "listing-token",
        "WHATSAPP_API_BASE_URL": "http://127.0.0.1:9",
    }


def _run(env: dict[str, str], *args: str) -> str:
    result = CliRunner().invoke(main, list(args), env=env)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result.stdout


def _old_groups_json(env: dict[str, str]) -> str:
    """What ``groups list --json`` wrote before it encoded rows in batches: each row's
    object built by ``to_jsonable`` with the number's label, the list encoded by
    ``dumps``."""

    async def read() -> str:
        with pytest.MonkeyPatch.context() as mp:
            for name, value in env.items():
                mp.setenv(name, value)
            async with open_live_service(load_settings()) as service:
                rows = await service.reading.inbox_rows()
                labelled = [
                    {**to_jsonable(r), "number": service.label(r.phone_number_id)} for r in rows
                ]
        return dumps(labelled) + "\n"

    return asyncio.run(read())


def test_groups_list_json_is_byte_for_byte_the_old_encoding(world: dict[str, str]) -> None:
    # GIVEN groups of two numbers (and an unassigned one) with hostile subjects, names,
    # previews and tags, times and no times, a pending group
    expected = _old_groups_json(world)
    # WHEN the listing is printed as JSON
    out = _run(world, "groups", "list", "--no-sync", "--json")
    # THEN it is exactly the text the object-by-object path wrote, and terminal-safe
    assert out == expected
    assert not {f"U+{ord(c):04X}" for c in out if ord(c) in UNSAFE_CODE_POINTS}
    assert "\\u001b]52;c;UFdORUQ=\\u0007" in out and "\\u202e" in out and "\\u007f" in out


def test_groups_list_plain_keeps_one_group_per_line(world: dict[str, str]) -> None:
    # WHEN the listing is printed as plain text (two numbers: the label column first)
    out = _run(world, "groups", "list", "--no-sync")
    lines = out.splitlines()
    # THEN each group is one line of five columns, whatever its subject holds
    assert len(lines) == GROUPS + 1
    assert all(len(line.split("\t")) == 5 for line in lines), [
        line for line in lines if len(line.split("\t")) != 5
    ]
    # AND the reported subject's line break and tab are shown visibly
    assert any(line.endswith("first line␊second␉column") for line in lines)
    assert any(line.endswith("pending␉subject") for line in lines)


def test_members_and_requests_lists_keep_one_record_per_line(world: dict[str, str]) -> None:
    listing = _run(world, "groups", "list", "--no-sync", "--json")

    groups = [g["group_id"] for g in json.loads(listing) if g["participant_count"]]
    broken = 0
    for group_id in groups[:60]:
        lines = _run(world, "members", "list", group_id, "--no-sync").splitlines()
        assert all(len(line.split("\t")) == 2 for line in lines), lines
        broken += sum("␊" in line or "␉" in line for line in lines)
        lines = _run(world, "messages", "list", group_id).splitlines()
        assert all(len(line.split("\t")) == 3 for line in lines if line != "no messages"), lines
    assert broken, "no member name with a line break or tab was listed"
    asking = [g["group_id"] for g in json.loads(listing) if g["pending_requests"]]
    for group_id in asking:
        lines = _run(world, "requests", "list", group_id, "--no-sync").splitlines()
        assert all(len(line.split("\t")) == 3 for line in lines), lines
