"""The sandbox with several business numbers, over real HTTP: one webhook URL signed with
one secret for every number, each number's own groups, people, tokens and limits."""

from __future__ import annotations

from collections import Counter

from groups_tui.sandbox import SandboxKnobs
from groups_tui.sandbox.numbers import SHARED_PEOPLE, sim_numbers

from .conftest import PHONE_ID, WABA_ID, Receiver, ServerFactory, api

NUMBERS = sim_numbers(3, phone_number_id=PHONE_ID, business_account_id=WABA_ID, tokens=True)


async def _create(server: object, number: str, token: str, subject: str) -> int:
    async with api(server, token) as http:  # type: ignore[arg-type]
        r = await http.post(
            f"/{number}/groups", json={"messaging_product": "whatsapp", "subject": subject}
        )
    return r.status_code


async def test_every_number_signs_to_one_url_under_its_own_metadata(
    make_server: ServerFactory, receiver: Receiver
) -> None:
    server = await make_server(numbers=NUMBERS)
    # WHEN a group is created on each number, each with its own token
    for number in NUMBERS:
        token = number.access_token or "test-token"
        assert await _create(server, number.phone_number_id, token, f"of {number.label}") == 200
    created = await receiver.wait_for(
        lambda: (
            len(receiver.group_items("group_lifecycle_update", "group_create")) == 3
            and receiver.changes("group_lifecycle_update")
        ),
        what="three creates",
    )
    # THEN every delivery came signed to the one URL, each change naming its number, in
    # an entry of the number's WABA
    assert all(d.signature_ok for d in receiver.deliveries)
    named = {
        (entry["id"], change["value"]["metadata"]["phone_number_id"])
        for d in receiver.deliveries
        for entry in d.payload["entry"]
        for change in entry["changes"]
    }
    assert named == {(n.business_account_id, n.phone_number_id) for n in NUMBERS}
    assert len({n.business_account_id for n in NUMBERS}) == 2
    assert created
    # AND each group lives at its own number
    for world, number in zip(server.worlds, NUMBERS, strict=True):
        assert [g.subject for g in world.groups.values()] == [f"of {number.label}"]


async def test_a_number_accepts_only_its_own_token(make_server: ServerFactory) -> None:
    server = await make_server(numbers=NUMBERS)
    br = NUMBERS[1]
    # WHEN BR's groups are asked for with the first number's token THEN error 10
    async with api(server) as http:
        wrong = await http.get(f"/{br.phone_number_id}/groups")
    assert wrong.status_code == 403 and wrong.json()["error"]["code"] == 10
    async with api(server, br.access_token or "") as http:
        right = await http.get(f"/{br.phone_number_id}/groups")
        other = await http.get(f"/{PHONE_ID}/groups")
    assert right.status_code == 200
    assert other.status_code == 403


async def test_each_number_has_its_people_market_and_some_shared(
    make_server: ServerFactory,
) -> None:
    server = await make_server(numbers=NUMBERS)
    first, br, de = server.worlds
    # THEN BR's and DE's people mostly come from their market, the first's from every one
    assert Counter(p.country for p in br.population.people).most_common(1)[0][0] == "BR"
    assert Counter(p.country for p in de.population.people).most_common(1)[0][0] == "DE"
    assert len({p.country for p in first.population.people}) > 20
    # AND a share of the first number's people are around the others too
    shared = {p.wa_id for p in first.population.people} & {p.wa_id for p in br.population.people}
    assert len(shared) >= int(len(first.population.people) * SHARED_PEOPLE) - 1


async def test_limits_are_each_numbers(make_server: ServerFactory, receiver: Receiver) -> None:
    knobs = SandboxKnobs(
        op_delay=0,
        failure_rate=0.0,
        max_groups=1,
        group_ops_per_second=0,
        messages_per_second=0.001,
        message_burst=1,
    )
    server = await make_server(numbers=NUMBERS, knobs=knobs)
    first, br = NUMBERS[0], NUMBERS[1]
    # GIVEN the first number at its group limit
    assert await _create(server, first.phone_number_id, "test-token", "one") == 200
    assert await _create(server, first.phone_number_id, "test-token", "two") == 200
    failed = await receiver.wait_for(
        lambda: [i for i in receiver.group_items("group_lifecycle_update") if i.get("errors")],
        what="the refused create",
    )
    assert failed[0]["errors"][0]["code"] == 131211
    # WHEN BR creates a group THEN it is BR's first, within BR's own limit
    assert await _create(server, br.phone_number_id, br.access_token or "", "tres") == 200
    await receiver.wait_for(
        lambda: any(
            i.get("subject") == "tres" and i.get("group_id")
            for i in receiver.group_items("group_lifecycle_update")
        ),
        what="BR's group",
    )
    # AND the throughput limits are each number's too: the first spends its one message
    # of the burst, BR still has its own
    first_limit, br_limit = (w.messaging.limiter for w in server.worlds[:2])
    assert first_limit is not br_limit
    assert first_limit.take() and not first_limit.take()
    assert br_limit.take()
