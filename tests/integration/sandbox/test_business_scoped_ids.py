"""People known only by a business-scoped user id (reference 3.9), in the simulated world.

With the BSUID knob on, someone who hides their phone number is named by ``user_id`` only
in every payload; the removal call takes them in ``user_id`` and refuses a BSUID in
``user`` or both fields, as Meta's contract says.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from groups_tui.cloud.webhooks import parse_payload
from groups_tui.domain.events import UnknownEvent
from groups_tui.domain.identity import bsuid_country, is_bsuid
from groups_tui.sandbox import (
    Behaviour,
    ManualClock,
    Population,
    SandboxKnobs,
    World,
    populate_demo,
)
from groups_tui.sandbox.errors import GraphError

from .conftest import PHONE_ID, SEPT_15, WABA_ID

SEED = 7


def world(*, bsuid: bool) -> World:
    print(f"population seed {SEED}")
    return World(
        phone_number_id=PHONE_ID,
        business_account_id=WABA_ID,
        clock=ManualClock(SEPT_15),
        seed=SEED,
        knobs=SandboxKnobs(bsuid=bsuid, op_delay=0, failure_rate=0.0, read_rate=0.0),
        population=Population(SEED, 300),
    )


def participants_items(w: World) -> list[dict[str, Any]]:
    return [
        item
        for change in w.emitter.emitted
        if change["field"] == "group_participants_update"
        for item in change["value"]["groups"]
    ]


def test_some_people_hide_their_number_deterministically() -> None:
    first, again, other = Population(SEED, 300), Population(SEED, 300), Population(8, 300)
    hidden = [p.wa_id for p in first.phone_hidden]
    assert 3 <= len(hidden) < len(first.people) // 2
    assert hidden == [p.wa_id for p in again.phone_hidden]
    assert hidden != [p.wa_id for p in other.phone_hidden]
    for person in first.phone_hidden:
        assert person.username, "a hidden number comes with a username"
        assert is_bsuid(person.user_id) and bsuid_country(person.user_id) == person.country
        assert first.by_bsuid(person.user_id) is person


def test_a_hidden_number_never_appears_in_payloads() -> None:
    w = world(bsuid=True)
    group = w.groups.add("Usernames")
    hidden = w.population.phone_hidden[0]
    shown = next(p for p in w.population.people if not p.phone_hidden)
    w.persons.join(group.id, hidden.wa_id)
    w.persons.join(group.id, shown.wa_id)
    w.persons.message(group.id, hidden.wa_id, "hello")
    w.messaging.send(
        {
            "messaging_product": "whatsapp",
            "recipient_type": "group",
            "to": group.id,
            "type": "template",
            "template": {
                "name": "delivery_update_group",
                "language": {"code": "en_US"},
                "components": [
                    {"type": "body", "parameters": [{"type": "text", "text": v} for v in "ab"]}
                ],
            },
        }
    )
    w.advance(7200)

    info = w.groups_api.info(group.id, "participants")["participants"]
    assert info == [
        {"user_id": hidden.user_id, "username": hidden.username},
        {"wa_id": shown.wa_id, "user_id": shown.user_id}
        | ({"username": shown.username} if shown.username else {}),
    ]
    [join, _] = participants_items(w)
    assert join["added_participants"] == [info[0]]
    [inbound] = [c["value"] for c in w.emitter.emitted if c["value"].get("messages")]
    assert "from" not in inbound["messages"][0]
    assert inbound["messages"][0]["from_user_id"] == hidden.user_id
    statuses = [
        s
        for c in w.emitter.emitted
        for s in c["value"].get("statuses", [])
        if s.get("recipient_participant_user_id") == hidden.user_id
    ]
    assert statuses, "the hidden member got delivery statuses"
    assert all("recipient_participant_id" not in s for s in statuses)
    everything = repr(w.emitter.emitted)
    assert hidden.wa_id not in everything
    assert shown.wa_id in everything


def test_without_the_knob_everyone_has_a_number() -> None:
    w = world(bsuid=False)
    group = w.groups.add("Before 2026")
    hidden = w.population.phone_hidden[0]
    w.persons.join(group.id, hidden.wa_id)
    assert w.groups_api.info(group.id, "participants")["participants"] == [{"wa_id": hidden.wa_id}]


def test_removal_takes_a_bsuid_in_user_id_and_echoes_it() -> None:
    w = world(bsuid=True)
    group = w.groups.add("Removal")
    hidden = w.population.phone_hidden[0]
    w.persons.join(group.id, hidden.wa_id)
    w.members_api.remove_participants(
        group.id,
        {"messaging_product": "whatsapp", "participants": [{"user_id": hidden.user_id}]},
    )
    w.advance(1)
    assert hidden.wa_id not in w.groups[group.id].members
    [_, removal] = participants_items(w)
    assert removal["removed_participants"] == [{"input": hidden.user_id}]


@pytest.mark.parametrize(
    "entry",
    [
        {"user": "{bsuid}"},
        {"user": "+{wa_id}", "user_id": "{bsuid}"},
        {"user_id": "{wa_id}"},
        {"user_id": "{bsuid}", "user": None},
        {},
        "{bsuid}",
    ],
    ids=["bsuid-in-user", "both", "number-in-user_id", "user-null-is-fine", "neither", "bare"],
)
def test_removal_refuses_what_meta_refuses(entry: Any) -> None:
    w = world(bsuid=True)
    group = w.groups.add("Strict")
    hidden = w.population.phone_hidden[0]
    w.persons.join(group.id, hidden.wa_id)

    def fill(value: Any) -> Any:
        if isinstance(value, str):
            return value.format(bsuid=hidden.user_id, wa_id=hidden.wa_id)
        return value

    filled = {k: fill(v) for k, v in entry.items()} if isinstance(entry, dict) else fill(entry)
    body = {"messaging_product": "whatsapp", "participants": [filled]}
    if filled == {"user_id": hidden.user_id, "user": None}:
        # An explicit null is no value: one field is given, as the contract asks.
        w.members_api.remove_participants(group.id, body)
        return
    with pytest.raises(GraphError) as caught:
        w.members_api.remove_participants(group.id, body)
    assert caught.value.code == 100 and caught.value.status == 400
    assert hidden.wa_id in w.groups[group.id].members


def test_a_simulated_afternoon_never_shows_a_hidden_number() -> None:
    # Pre-population and the people's own activity name everyone the same way.
    w = world(bsuid=True)
    populate_demo(w, 12)
    behaviour = Behaviour(w, seed=SEED)
    behaviour.start()
    w.advance(4 * 3600)
    behaviour.stop()
    hidden = {p.wa_id for p in w.population.phone_hidden}
    text = json.dumps(w.emitter.emitted)
    assert not [wa for wa in hidden if wa in text]
    user_ids = {p.user_id for p in w.population.phone_hidden}
    assert any(u in text for u in user_ids), "hidden people took part"
    events = [
        e
        for change in w.emitter.emitted
        for e in parse_payload(
            {"object": "whatsapp_business_account", "entry": [{"id": WABA_ID, "changes": [change]}]}
        )
    ]
    assert events and not [e for e in events if isinstance(e, UnknownEvent)]
