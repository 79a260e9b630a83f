"""One bad event never loses its neighbours.

Every field of every event in the recorded fixtures is mutated (wrong JSON type, a value
outside what we know, missing, huge, hostile text) inside a body that also holds valid
events: a group creation and a message of a group of its own. The body goes through the
listener's write path (parse, then log and apply in one transaction, as
``IngestWriter`` does), and then every valid event must be applied and nothing may fail.

The sweep covers every field with a fixed set of values; the property test (derandomized,
so the same examples run everywhere) combines several mutations of any values.
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from groups_tui.domain.models import JoinApproval, Unknown
from groups_tui.listener.ingest import dedupe_key_for, events_from_payload
from groups_tui.store import RawEventIn, Store
from tests.helpers.webhooks import fixture, fixture_names

from .support import running_listener

WABA = "102290129340398"

MISSING = object()
"""Stands for "the key is removed"."""

SWEEP_VALUES: tuple[Any, ...] = (
    MISSING,
    None,
    True,
    0,
    -1,
    2**70,
    1.5e308,
    [],
    {},
    ["x", {"y": None}],
    "",
    "x",
    "AUTO_APPROVE",
    "\ud800",
    "x" * 20_000,
    "\x1b[31m[bold]red[/bold]\x00\u202e",
)
"""Every field gets each of these in the sweep."""

HOSTILE_VALUES: tuple[Any, ...] = (
    *SWEEP_VALUES,
    False,
    -(2**63),
    2**63,
    10**30,
    "0",
    "1767225605",
    "approval_required",
    "auto_approve",
    "group_create",
    "\udfff\ud800x",
    "🙂" * 300,
    [[[[[[[[[["deep"]]]]]]]]]],
    {"\ud800": "\udc00", "body": 5},
    "a" * 200_000,
)
"""The property test draws from these."""


def _changes() -> list[dict[str, Any]]:
    """Every change of every fixture, deduplicated (each is mutated on its own)."""
    seen: set[str] = set()
    out: list[dict[str, Any]] = []
    for name in fixture_names():
        for entry in fixture(name).get("entry", []):
            for change in entry.get("changes", []):
                key = json.dumps(change, sort_keys=True)
                if key not in seen:
                    seen.add(key)
                    out.append(change)
    return out


CHANGES = _changes()


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every key or index under ``node``, except the envelope's metadata no one reads."""
    if isinstance(node, dict):
        items: list[tuple[Any, Any]] = list(node.items())
    elif isinstance(node, list):
        items = list(enumerate(node))
    else:
        return
    for key, child in items:
        if key in ("metadata", "messaging_product"):
            continue
        yield (*prefix, key)
        yield from _paths(child, (*prefix, key))


FIELDS = [(i, path) for i, change in enumerate(CHANGES) for path in _paths(change)]


def mutate(change: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    """A deep copy of ``change`` with the field at ``path`` set to ``value`` (or removed)."""
    out = copy.deepcopy(change)
    node = out
    for step in path[:-1]:
        node = node[step]
    if value is MISSING:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return out


def valid_group(n: int) -> tuple[str, dict[str, Any]]:
    group_id = f"VALIDGROUP{n:06d}"
    return group_id, {
        "field": "group_lifecycle_update",
        "value": {
            "messaging_product": "whatsapp",
            "groups": [
                {
                    "timestamp": str(1767225600 + n),
                    "group_id": group_id,
                    "type": "group_create",
                    "request_id": f"valid-req-{n}",
                    "subject": f"Valid group {n}",
                    "join_approval_mode": "approval_required",
                }
            ],
        },
    }


def valid_message(n: int, group_id: str) -> tuple[str, dict[str, Any]]:
    wamid = f"wamid.VALID{n:06d}"
    return wamid, {
        "field": "messages",
        "value": {
            "messaging_product": "whatsapp",
            "contacts": [{"profile": {"name": "Sheena"}, "wa_id": "16505551234"}],
            "messages": [
                {
                    "from": "16505551234",
                    "group_id": group_id,
                    "id": wamid,
                    "timestamp": str(1767231000 + n),
                    "type": "text",
                    "text": {"body": f"valid message {n}"},
                }
            ],
        },
    }


class Neighbours:
    """Builds bodies of [valid group, bad change, valid message] and checks the valid ones."""

    def __init__(self) -> None:
        self.n = 0
        self.expected: list[tuple[str, str]] = []

    def body(self, bad: dict[str, Any], order: int = 0) -> bytes:
        self.n += 1
        group_id, group = valid_group(self.n)
        wamid, message = valid_message(self.n, group_id)
        self.expected.append((group_id, wamid))
        changes = [group, bad, message]
        changes = changes[order % 3 :] + changes[: order % 3]
        payload = {
            "object": "whatsapp_business_account",
            "entry": [{"id": WABA, "changes": changes}],
        }
        # As Meta sends it: JSON escapes for what UTF-8 cannot carry (lone surrogates).
        return json.dumps(payload).encode()

    async def check(self, store: Store) -> None:
        for group_id, wamid in self.expected:
            group = await store.groups.get(group_id)
            assert group is not None, f"valid group {group_id} was lost"
            assert group.join_approval is JoinApproval.APPROVAL_REQUIRED
            message = await store.messages.get(wamid)
            assert message is not None, f"valid message {wamid} was lost"
            assert message.group_id == group_id


async def ingest(store: Store, bodies: list[bytes], batch: int = 64) -> None:
    """The listener's write path: decode, then log and apply each batch in one commit."""
    for start in range(0, len(bodies), batch):
        chunk = bodies[start : start + batch]
        payloads = [json.loads(body) for body in chunk]
        items = [RawEventIn(body=b, dedupe_key=dedupe_key_for(b), received_at=1.0) for b in chunk]
        _, failures = await store.raw.insert_and_apply(
            items, lambda i, payloads=payloads: events_from_payload(payloads[i])
        )
        assert failures == [], failures[:3]
    stats = await store.raw.stats()
    assert (stats.errors, stats.failed_events) == (0, 0)
    assert stats.applied == stats.total


async def _sweep(db: Path) -> int:
    store = await Store.open(db)
    try:
        neighbours = Neighbours()
        bodies = [
            neighbours.body(mutate(CHANGES[i], path, value), order=k)
            for k, (i, path) in enumerate(FIELDS)
            for value in SWEEP_VALUES
        ]
        await ingest(store, bodies)
        await neighbours.check(store)
        return len(bodies)
    finally:
        await store.close()


@pytest.mark.slow
def test_every_field_of_every_event_with_every_bad_value_keeps_its_neighbours(
    tmp_path: Path,
) -> None:
    sent = asyncio.run(_sweep(tmp_path / "sweep.db"))
    print(f"sweep: {len(FIELDS)} fields x {len(SWEEP_VALUES)} values = {sent} bodies")
    assert sent == len(FIELDS) * len(SWEEP_VALUES) > 3000


@st.composite
def bad_changes(draw: st.DrawFn) -> dict[str, Any]:
    """A fixture change with one to four of its fields mutated."""
    change = draw(st.sampled_from(CHANGES))
    for _ in range(draw(st.integers(1, 4))):
        paths = list(_paths(change))
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        change = mutate(change, path, draw(st.sampled_from(HOSTILE_VALUES)))
    return change


async def _examples(db: Path, cases: list[tuple[dict[str, Any], int]]) -> None:
    store = await Store.open(db)
    try:
        neighbours = Neighbours()
        await ingest(store, [neighbours.body(bad, order) for bad, order in cases], batch=4)
        await neighbours.check(store)
    finally:
        await store.close()


@settings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(cases=st.lists(st.tuples(bad_changes(), st.integers(0, 2)), min_size=1, max_size=6))
def test_mutated_events_never_lose_the_valid_events_of_their_body(
    tmp_path_factory: pytest.TempPathFactory, cases: list[tuple[dict[str, Any], int]]
) -> None:
    asyncio.run(_examples(tmp_path_factory.mktemp("neighbours") / "g.db", cases))


# --- the reported case, over HTTP -------------------------------------------------------


@pytest.mark.parametrize("mode", ["AUTO_APPROVE", "x", "", 0])
async def test_an_unexpected_join_approval_mode_is_kept_and_loses_nothing(
    tmp_path: Path, mode: Any
) -> None:
    # GIVEN a signed body whose first group creation carries an unexpected mode, beside a
    # valid group and a valid message
    neighbours = Neighbours()
    odd = valid_group(999)[1]
    odd["value"]["groups"][0]["join_approval_mode"] = mode
    body = neighbours.body(odd)
    async with running_listener(tmp_path / "g.db") as running:
        # WHEN it is delivered
        response = await running.post_signed(body)
        await running.ingest.wait_idle()
        # THEN it is acknowledged, every event of it is applied, nothing failed
        assert response.status_code == 200
        await neighbours.check(running.store)
        stats = await running.store.raw.stats()
        assert (stats.errors, stats.failed_events) == (0, 0)
        # AND the odd mode is kept as data: unknown, never taken for a known one
        group = await running.store.groups.get("VALIDGROUP000999")
        assert group is not None
        if mode == "":
            assert group.join_approval is JoinApproval.AUTO_APPROVE  # absent: the default
        else:
            assert group.join_approval == Unknown(str(mode))
            assert group.join_approval.label == f"unknown: {mode}"
