"""The simulated people, their determinism, pre-populated worlds and the control routes."""

from __future__ import annotations

import json
import unicodedata
from typing import Any

import phonenumbers

from groups_tui.sandbox import (
    Behaviour,
    ManualClock,
    Population,
    SandboxKnobs,
    ScaledClock,
    World,
    populate_demo,
    prepopulate,
)
from groups_tui.sandbox.people import COUNTRIES

from .conftest import PHONE_ID, SEPT_15, WABA_ID, Receiver, ServerFactory, api, control, outsiders


def world(seed: int = 7, **knobs: Any) -> World:
    return World(
        phone_number_id=PHONE_ID,
        business_account_id=WABA_ID,
        clock=ManualClock(SEPT_15),
        seed=seed,
        knobs=SandboxKnobs(**knobs),
        population=Population(seed, 300),
    )


def test_population_countries_numbers_and_names() -> None:
    pop = Population(7, 400)
    assert len(pop.countries()) >= 25
    regions = set()
    for person in pop.people:
        number = phonenumbers.parse("+" + person.wa_id)
        assert phonenumbers.is_valid_number(number), person.wa_id
        region = phonenumbers.region_code_for_number(number)
        assert region == person.country
        regions.add(region)
    # +1 and +7 splits, and countries that are not on the rate card.
    assert {"US", "CA", "DO", "JM", "PR", "AI", "TT", "RU", "KZ", "PL", "UA"} <= regions
    kz = [p.wa_id for p in pop.people if p.country == "KZ"]
    assert kz and all(w.startswith("77") for w in kz)
    assert len({p.wa_id for p in pop.people}) == len(pop.people)
    names = " ".join(p.name for p in pop.people)
    scripts = {
        "CYRILLIC",
        "ARABIC",
        "HEBREW",
        "DEVANAGARI",
        "CJK",
        "THAI",
        "GREEK",
        "LATIN",
    }
    found = {s for s in scripts for ch in names if s in unicodedata.name(ch, "")}
    assert found == scripts
    assert any(ord(ch) >= 0x1F300 for ch in names), "emoji"
    hostile = {p.name for p in pop.hostile}
    assert "[@click=app.quit]Free prize[/]" in hostile
    assert "[link=https://x.test]click[/link]" in hostile
    assert any("\x1b[" in n for n in hostile) and any("\x1b]52;" in n for n in hostile)
    assert any("\u202e" in n for n in hostile)
    assert len(pop.spammers) >= 3
    assert len(COUNTRIES) >= 25


def run_behaviour(seed: int, hours: float) -> list[str]:
    w = world(seed)
    populate_demo(w, 20)
    behaviour = Behaviour(w, seed=seed)
    behaviour.start()
    w.advance(hours * 3600)
    behaviour.stop()
    return [json.dumps(c, sort_keys=True) for c in w.emitter.emitted]


def test_behaviour_is_deterministic_for_a_seed() -> None:
    first = run_behaviour(11, 6)
    second = run_behaviour(11, 6)
    other = run_behaviour(12, 6)
    assert first == second
    assert first != other
    kinds = {json.loads(c)["field"] for c in first}
    assert {"messages", "group_participants_update"} <= kinds
    text = "\n".join(first)
    assert "group_join_request_created" in text
    assert "https:" in text  # spam links among the messages


def test_behaviour_covers_joins_leaves_spam_and_media() -> None:
    w = world(5)
    populate_demo(w, 30)
    behaviour = Behaviour(w, seed=5)
    kinds: dict[str, int] = {}
    t = w.now()
    for _ in range(1500):
        t += 30
        kind = behaviour.step(t)
        kinds[kind] = kinds.get(kind, 0) + 1
    w.advance(3600)
    assert {"chat", "join", "request", "leave", "spam"} <= set(kinds)
    types = {
        m["type"]
        for c in w.emitter.emitted
        if c["field"] == "messages"
        for m in c["value"].get("messages", [])
    }
    assert {"text", "image"} <= types
    for group in w.groups.values():
        assert len(group.members) <= 8


def test_demo_world_is_varied() -> None:
    w = world()
    groups = populate_demo(w, 50)
    now = w.now()
    assert len(groups) == 50
    assert any(g.suspended for g in groups)
    assert any(len(g.members) == 8 for g in groups)
    assert any(not g.members for g in groups)
    assert any(g.mode == "approval_required" and g.join_requests for g in groups)
    open_ = [g for g in groups if g.window_open(now)]
    closing = [g for g in open_ if g.last_inbound_at and now - g.last_inbound_at > 23 * 3600]
    closed = [g for g in groups if g.last_inbound_at and not g.window_open(now)]
    assert open_ and closing and closed
    spam = {p.wa_id for p in w.population.spammers}
    assert any(spam & set(g.members) for g in groups)
    hostile = {p.wa_id for p in w.population.hostile}
    assert any(hostile & set(g.members) for g in groups)
    fields = [c["field"] for c in w.emitter.emitted]
    assert fields[0] == "group_lifecycle_update"
    assert "group_status_update" in fields


def test_real_group_limit_via_prepopulation() -> None:
    w = world()
    prepopulate(w, 10_000)
    assert w.groups.active_count == 10_000
    w.emitter.emitted.clear()
    assert "request_id" in w.groups_api.create({"messaging_product": "whatsapp", "subject": "x"})
    w.advance(5)
    item = w.emitter.emitted[-1]["value"]["groups"][0]
    assert item["type"] == "group_create"
    assert item["errors"][0]["code"] == 131211
    assert w.groups.active_count == 10_000


def test_scaled_clock_runs_faster() -> None:
    ticks = iter([100.0, 101.0, 102.5])
    clock = ScaledClock(start=1_000.0, speed=60, monotonic=lambda: next(ticks))
    assert clock.now() == 1_060.0
    assert clock.now() == 1_150.0


async def test_prepopulated_groups_are_announced_in_batches(
    make_server: ServerFactory, receiver: Receiver
) -> None:
    server = await make_server(groups=300)
    await server.drain_webhooks(within=30)
    creates = receiver.group_items("group_lifecycle_update", "group_create")
    assert len(creates) == 300
    assert all(d.signature_ok for d in receiver.deliveries)
    assert len(receiver.deliveries) < 20
    assert any(len(d.payload["entry"][0]["changes"]) > 1 for d in receiver.deliveries)
    assert all(len(d.body) <= 3 * 1024 * 1024 for d in receiver.deliveries)
    contacts = [c for ch in receiver.changes("messages") for c in ch["value"].get("contacts", [])]
    assert contacts and all("name" in c["profile"] for c in contacts)


async def test_control_routes_drive_people_and_time(
    make_server: ServerFactory, receiver: Receiver
) -> None:
    server = await make_server(knobs=SandboxKnobs(op_delay=0))
    group = server.world.groups.add("approval", mode="approval_required")
    gid = group.id
    wa = outsiders(server, 1)[0]
    async with control(server) as ctl:
        jr = (await ctl.post(f"/groups/{gid}/join_request", json={"wa_id": wa})).json()
        assert jr["wa_id"] == wa
        revoked = await ctl.post(f"/groups/{gid}/revoke_request", json={"wa_id": wa})
        assert revoked.json()["join_request_id"] == jr["join_request_id"]
        again = (await ctl.post(f"/groups/{gid}/join_request", json={})).json()
        async with api(server) as http:
            await http.post(
                f"/{gid}/join_requests",
                json={"messaging_product": "whatsapp", "join_requests": [again["join_request_id"]]},
            )
        msg = await ctl.post(f"/groups/{gid}/message", json={"text": "[bold]hi[/bold]"})
        assert msg.json()["id"].startswith("wamid.")
        media = await ctl.post(f"/groups/{gid}/message", json={"type": "image"})
        state = (await ctl.get(f"/groups/{gid}")).json()
        assert state["window_open"] is True
        assert [m["wa_id"] for m in state["members"]] == [again["wa_id"]]
        left = await ctl.post(f"/groups/{gid}/leave", json={})
        assert left.json()["wa_id"] == again["wa_id"]
        nobody = await ctl.post(f"/groups/{gid}/leave", json={})
        assert nobody.status_code == 409
        adv = (await ctl.post("/clock/advance", json={"seconds": 90})).json()
        assert adv["now"] == SEPT_15 + 90
        tick = (await ctl.post("/tick")).json()
        assert tick["ran"] == 0
        summary = (await ctl.get("/state")).json()
        assert summary["groups"] == 1 and summary["inbound_messages"] == 2
        assert "webhooks" in summary
        people = (await ctl.get("/people", params={"limit": 5})).json()["people"]
        assert len(people) == 5
    types = [
        i["type"]
        for i in await receiver.wait_for(
            lambda: (lambda x: x if len(x) >= 5 else None)(
                receiver.group_items("group_participants_update")
            )
        )
    ]
    assert types == [
        "group_join_request_created",
        "group_join_request_revoked",
        "group_join_request_created",
        "group_participants_add",
        "group_participants_remove",
    ]
    inbound = await receiver.wait_for(
        lambda: (lambda x: x if len(x) == 2 else None)(receiver.inbound())
    )
    assert inbound[0]["text"]["body"] == "[bold]hi[/bold]"
    assert inbound[0]["group_id"] == gid
    image = inbound[1]["image"]
    assert image["id"] == next(iter(server.world.media))
    assert media.json()["id"] == inbound[1]["id"]
    # Inbound media can be downloaded like Meta's.
    async with api(server) as http:
        info = (await http.get(f"/{image['id']}")).json()
        blob = await http.get(info["url"])
    assert len(blob.content) == int(info["file_size"])
