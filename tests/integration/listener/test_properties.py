"""Property tests over real HTTP: hostile bodies, and any delivery order or batching.

Each example starts its own store and listener on a loopback port (inside
``asyncio.run``), so examples never share state.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from groups_tui.store.digest import DIGEST_QUERIES
from tests.helpers.signing import TEST_APP_SECRET, signature, signed_headers
from tests.helpers.webhooks import consistent_fixture_names, fixture, fixture_bytes, fixture_names

from .support import running_listener

WABA = "102290129340398"


def derived_digest(db_path: Path) -> str:
    """Hash of the derived state tables, leaving out the raw log.

    Batching changes which bodies (raw rows) exist but must not change the state they
    produce, so the raw log is not part of this comparison.
    """
    hasher = hashlib.sha256()
    conn = sqlite3.connect(db_path)
    try:
        for name, query in DIGEST_QUERIES:
            if name == "raw_events":
                continue
            hasher.update(name.encode())
            for row in conn.execute(query):
                hasher.update(repr(tuple(row)).encode())
    finally:
        conn.close()
    return hasher.hexdigest()


def all_changes(names: list[str]) -> list[dict[str, Any]]:
    """Every ``changes[]`` element of the named fixtures, in fixture order."""
    return [
        change for name in names for entry in fixture(name)["entry"] for change in entry["changes"]
    ]


def envelope(changes: list[dict[str, Any]]) -> dict[str, Any]:
    return {"object": "whatsapp_business_account", "entry": [{"id": WABA, "changes": changes}]}


CHANGES = all_changes(consistent_fixture_names())


def _tied(node: Any) -> Any:
    """A copy of ``node`` with every ``timestamp`` set to the same second."""
    if isinstance(node, dict):
        return {k: "1767225600" if k == "timestamp" else _tied(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_tied(v) for v in node]
    return node


TIED_CHANGES = [_tied(change) for change in CHANGES]
"""The same history with every event in the same second: only tie rules decide."""

_reference: dict[str, str] = {}


async def _deliver_all(db_path: Path, bodies: list[bytes], concurrency: int = 8) -> None:
    async with running_listener(db_path) as running:
        for start in range(0, len(bodies), concurrency):
            chunk = bodies[start : start + concurrency]
            responses = await asyncio.gather(*(running.post_signed(b) for b in chunk))
            assert [r.status_code for r in responses] == [200] * len(chunk)
        await running.ingest.wait_idle()


def reference_digest(changes: list[dict[str, Any]] = CHANGES) -> str:
    """State after one ordered delivery, one change per POST."""
    key = "tied" if changes is TIED_CHANGES else "digest"
    if key not in _reference:
        bodies = [json.dumps(envelope([c])).encode() for c in changes]
        with tempfile.TemporaryDirectory(prefix="groups-tui-ref-") as tmp:
            db = Path(tmp) / "ref.db"
            asyncio.run(_deliver_all(db, bodies, concurrency=1))
            _reference[key] = derived_digest(db)
    return _reference[key]


@st.composite
def deliveries(draw: st.DrawFn, changes: list[dict[str, Any]] = CHANGES) -> list[bytes]:
    """The same changes shuffled, some repeated, split into batches of 1 to 6 per POST."""
    order = draw(st.permutations(range(len(changes))))
    repeats = draw(st.lists(st.sampled_from(range(len(changes))), max_size=len(changes)))
    sequence = list(order) + repeats
    positions = draw(st.permutations(range(len(sequence))))
    sequence = [sequence[p] for p in positions]
    bodies: list[bytes] = []
    i = 0
    while i < len(sequence):
        size = draw(st.integers(1, 6))
        batch = [changes[k] for k in sequence[i : i + size]]
        indent = draw(st.sampled_from([None, 1, 2]))
        bodies.append(json.dumps(envelope(batch), indent=indent).encode())
        i += size
    # A retried POST repeats its body byte for byte.
    bodies += draw(st.lists(st.sampled_from(bodies), max_size=4))
    return bodies


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    # Shrinking a failure here replays whole listener runs; it would blow the time budget.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
@given(bodies=deliveries())
def test_any_order_batching_and_duplication_gives_the_ordered_state(bodies: list[bytes]) -> None:
    expected = reference_digest()
    with tempfile.TemporaryDirectory(prefix="groups-tui-prop-") as tmp:
        db = Path(tmp) / "g.db"
        asyncio.run(_deliver_all(db, bodies))
        assert derived_digest(db) == expected


@settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
@given(bodies=deliveries(TIED_CHANGES))
def test_events_of_the_same_second_give_the_ordered_state_in_any_order(
    bodies: list[bytes],
) -> None:
    expected = reference_digest(TIED_CHANGES)
    with tempfile.TemporaryDirectory(prefix="groups-tui-tied-") as tmp:
        db = Path(tmp) / "g.db"
        asyncio.run(_deliver_all(db, bodies))
        assert derived_digest(db) == expected


# --- hostile bodies ---------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)

fixture_bodies = st.sampled_from(fixture_names()).map(fixture_bytes)


def _json_paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(node, dict):
        children: list[tuple[Any, Any]] = list(node.items())
    elif isinstance(node, list):
        children = list(enumerate(node))
    else:
        return []
    found: list[tuple[Any, ...]] = []
    for key, child in children:
        found.append((*prefix, key))
        found.extend(_json_paths(child, (*prefix, key)))
    return found


@st.composite
def mutated_json(draw: st.DrawFn) -> bytes:
    payload = json.loads(draw(fixture_bodies))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_json_paths(payload)))
        node = payload
        for step in path[:-1]:
            node = node[step]
        node[path[-1]] = draw(json_values)
    return json.dumps(payload).encode()


@st.composite
def mutated_bytes(draw: st.DrawFn) -> bytes:
    body = bytearray(draw(fixture_bodies))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(body) - 1))
        op = draw(st.sampled_from(["flip", "cut", "insert"]))
        if op == "flip":
            body[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "cut":
            del body[at : at + draw(st.integers(1, 40))]
        else:
            body[at:at] = draw(st.binary(min_size=1, max_size=8))
    return bytes(body)


bodies_strategy = st.one_of(
    mutated_json(),
    mutated_bytes(),
    st.binary(max_size=300),
    json_values.map(lambda v: json.dumps(v).encode()),
    fixture_bodies,
)
signing_strategy = st.sampled_from(["good", "good", "missing", "wrong", "other-secret"])


async def _hostile(db_path: Path, cases: list[tuple[bytes, str]]) -> None:
    async with running_listener(db_path) as running:
        url = running.server.url
        accepted: set[bytes] = set()

        async def send(body: bytes, mode: str) -> None:
            if mode == "good":
                headers = signed_headers(body)
            elif mode == "missing":
                headers = {"Content-Type": "application/json"}
            elif mode == "wrong":
                headers = {"X-Hub-Signature-256": "sha256=" + hashlib.sha256(body).hexdigest()}
            else:
                headers = {"X-Hub-Signature-256": signature(body, TEST_APP_SECRET + "x")}
            response = await running.client.post(url, content=body, headers=headers)
            if mode == "missing":
                assert response.status_code == 401
            elif mode != "good":
                assert response.status_code == 403
            elif _is_json(body):
                assert response.status_code == 200
                accepted.add(body)
            else:
                assert response.status_code == 400

        await asyncio.gather(*(send(body, mode) for body, mode in cases))
        await running.ingest.wait_idle()
        logged = [raw.body for raw in await running.store.raw.events(limit=10_000)]
        assert sorted(logged) == sorted(accepted)
        stats = await running.store.raw.stats()
        assert stats.errors == 0
        refused = sum(mode != "good" for _, mode in cases)
        health = (await running.client.get(running.server.base_url + "/healthz")).json()
        assert health["ok"] is True
        assert health["signatures_refused"] == refused


def _is_json(body: bytes) -> bool:
    try:
        json.loads(body)
    except (ValueError, RecursionError):
        return False
    return True


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases=st.lists(st.tuples(bodies_strategy, signing_strategy), min_size=1, max_size=40))
def test_hostile_bodies_never_crash_and_unsigned_ones_are_never_stored(
    cases: list[tuple[bytes, str]],
) -> None:
    with tempfile.TemporaryDirectory(prefix="groups-tui-hostile-") as tmp:
        asyncio.run(_hostile(Path(tmp) / "g.db", cases))


def test_property_helpers_see_every_change() -> None:
    assert len(CHANGES) == sum(
        len(entry["changes"])
        for name in consistent_fixture_names()
        for entry in fixture(name)["entry"]
    )
