"""Several business numbers in one inbox, end to end over real HTTP.

A 3-number sandbox (US, BR and DE, each after the first with a token of its own, DE in a
second WABA) behind the real listener, store, clients and service: every group, send,
charge and removal goes through its own number, and a webhook for a number nobody
configured is kept raw and changes nothing.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from groups_tui.domain.models import TemplateCategory
from groups_tui.domain.moderation.config import ModerationConfig
from groups_tui.domain.moderation.rules import RuleAction
from groups_tui.service import ServiceError
from groups_tui.workers.moderation import ModerationWatcher
from tests.helpers.signing import encode, signed_headers
from tests.helpers.webhooks import fixture

from .support import APP_SECRET, BR, DE, STATUS_HORIZON, Stack, running_stack
from .support import params_for as params

pytestmark = pytest.mark.xdist_group("e2e-numbers")

OTHER_NUMBER = "106540352242999"
"""A number of the same WABA that this account did not configure."""


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    async with running_stack(tmp_path / "numbers.db", numbers=3, number_tokens=True) as running:
        yield running


def _ids(stack: Stack) -> dict[str, str]:
    return {n.label: n.phone_number_id for n in stack.numbers}


async def test_every_fact_goes_through_its_own_number(stack: Stack) -> None:
    service = stack.service
    ids = _ids(stack)
    assert list(ids) == ["US", "BR", "DE"]
    assert len({c.phone_number_id for c in stack.clients}) == 3
    # GIVEN one group created on each number, through the service
    groups = {label: await stack.create_group(f"Order of {label}", number=label) for label in ids}

    # THEN each group lives at its own number in the sandbox, and the store knows it
    for label, group_id in groups.items():
        assert group_id in stack.world_of(label).groups
        others = [other for other in ids if other != label]
        assert all(group_id not in stack.world_of(other).groups for other in others)
        row = await stack.row(group_id)
        assert row.phone_number_id == ids[label]
        group = await service.reading.group(group_id)
        assert group is not None and group.phone_number_id == ids[label]
    # AND the inbox shows all three, and one number's alone when asked
    assert {r.group_id for r in await service.reading.inbox_rows()} == set(groups.values())
    assert [r.group_id for r in await service.reading.inbox_rows("BR")] == [groups["BR"]]

    # WHEN each group gets members through its own number's invite link
    invite = await service.sending.invite_template("BR")
    assert invite is not None
    [sent] = await service.sending.send_invites(groups["BR"], [BR], invite)
    assert sent.state == "accepted"
    for label, group_id in groups.items():
        world = stack.world_of(label)
        person = world.population.people[0].wa_id
        world.persons.join(group_id, person)
        world.persons.message(group_id, person, f"hello from {label}")
    await stack.settle(STATUS_HORIZON)

    # THEN the 1:1 invite is BR's: its charge is booked under BR, not under the first number
    invite_lines = await stack.store.ledger.for_message(sent.wamid or "")
    assert invite_lines, "the invite's status brought no charge"
    assert {line.group_id for line in invite_lines} == {None}
    spend = {s.label: s for s in await service.reading.spend_by_number()}
    assert spend["BR"].today > 0 and spend["US"].today == 0 and spend["DE"].today == 0

    # WHEN a template goes to every group
    for label, group_id in groups.items():
        utility = await stack.template(TemplateCategory.UTILITY)
        item = await service.sending.send_template(group_id, utility, params(utility))
        assert item.state == "accepted"
        # AND it was the group's own number that sent it (the sandbox logged it there)
        assert item.wamid in stack.world_of(label).log.sent
    await stack.settle(STATUS_HORIZON)

    # THEN the ledger books each template's charges under its group's number
    ledger = await stack.store.db.fetch_all(
        "SELECT phone_number_id, group_id, count(*) FROM cost_ledger "
        "WHERE group_id IS NOT NULL GROUP BY 1, 2"
    )
    assert {(number, group) for number, group, _ in ledger} == {
        (ids[label], group_id) for label, group_id in groups.items()
    }
    spend = {s.label: s for s in await service.reading.spend_by_number()}
    total = await service.reading.spend_today()
    assert total == sum((s.today for s in spend.values()), Decimal(0))
    assert await service.reading.spend_today("DE") == spend["DE"].today
    # AND every audit entry names the number the action went through
    audit = await stack.audit()
    creates = {e.targets[0]: e.phone_number_id for e in audit if e.action == "group.create"}
    assert creates == {f"Order of {label}": ids[label] for label in ids}
    sends = {e.group_id: e.phone_number_id for e in audit if e.action == "send.template"}
    assert sends == {group_id: ids[label] for label, group_id in groups.items()}


async def test_templates_are_read_per_business_account(stack: Stack) -> None:
    # GIVEN DE's number in a WABA of its own
    numbers = {n.label: n for n in stack.numbers}
    assert numbers["DE"].business_account_id != numbers["US"].business_account_id
    assert numbers["BR"].business_account_id == numbers["US"].business_account_id
    # WHEN each number's templates are listed
    for label in numbers:
        assert await stack.service.reading.templates(refresh=True, number=label)
    # THEN the cache keeps them per WABA
    wabas = await stack.store.db.fetch_all("SELECT DISTINCT business_account_id FROM templates")
    assert {w for (w,) in wabas} == {
        numbers["US"].business_account_id,
        numbers["DE"].business_account_id,
    }


async def test_creating_a_group_names_the_number_when_there_are_several(stack: Stack) -> None:
    # WHEN a group is created without saying on which number
    with pytest.raises(ServiceError) as caught:
        await stack.service.admin.create_group("Where?")
    # THEN it is refused, naming the choices, and nothing reached any number
    assert caught.value.refusal is not None
    assert "US" in caught.value.message and "BR" in caught.value.message
    assert all(not stack.world_of(n.label).groups for n in stack.numbers)


async def test_remove_everywhere_removes_through_each_groups_number(stack: Stack) -> None:
    service = stack.service
    # GIVEN someone around two numbers (the first number's people are shared), in a US
    # group and in a BR group
    shared = stack.world_of("US").population.people[0].wa_id
    assert stack.world_of("BR").population.get(shared) is not None
    us_group = await stack.create_group("US book club", number="US")
    br_group = await stack.create_group("Clube do livro", number="BR")
    await stack.join(us_group, shared, DE)
    stack.world_of("BR").persons.join(br_group, shared)
    stack.world_of("BR").persons.join(br_group, BR)
    await stack.settle()

    # WHEN the operator removes them everywhere
    ops = await service.admin.remove_everywhere(shared)
    await stack.settle(60)

    # THEN one removal per group, each through that group's number: BR's token is the
    # only one the sandbox accepts for BR's group, and both groups lost the person
    assert {(op.group_id, op.phone_number_id) for op in ops} == {
        (us_group, _ids(stack)["US"]),
        (br_group, _ids(stack)["BR"]),
    }
    assert shared not in stack.world_of("US").groups[us_group].members
    assert shared not in stack.world_of("BR").groups[br_group].members
    assert DE in stack.world_of("US").groups[us_group].members
    assert await service.reading.member(us_group, shared) is None
    assert await service.reading.member(br_group, shared) is None


async def test_a_token_of_another_number_is_refused_at_the_sandbox(stack: Stack) -> None:
    # GIVEN a BR group
    group_id = await stack.create_group("Só BR", number="BR")
    # WHEN the first number's token is used to act on it
    async with httpx.AsyncClient(base_url=stack.sandbox.base_url) as http:
        wrong = await http.get(
            f"/v25.0/{group_id}/invite_link",
            headers={"Authorization": f"Bearer {stack.access_token}"},
        )
    # THEN the sandbox refuses it as Meta refuses a token without access to the number,
    # while the service, going through BR's own client, reads the link
    assert wrong.status_code == 403
    assert wrong.json()["error"]["code"] == 10
    assert (await stack.service.admin.invite_link(group_id)).startswith("https://")


async def test_a_webhook_of_an_unconfigured_number_is_kept_raw_and_changes_nothing(
    stack: Stack,
) -> None:
    store = stack.store
    # GIVEN the account's state after some activity
    group_id = await stack.create_group("Quiet", number="DE")
    await stack.join(group_id, DE)
    tables = ("groups", "participants", "messages", "cost_ledger", "recipient_status")
    before = [await store.db.fetch_all(f"SELECT * FROM {t} ORDER BY 1, 2") for t in tables]
    feed_before = await store.feed.latest_id()
    stats_before = await store.raw.stats()
    # WHEN Meta posts a 1:1 status (Meta's own sample, priced) of a number this account
    # did not configure, signed with the app's secret, to the one webhook URL
    payload = copy.deepcopy(fixture("statuses_delivered_one_to_one"))
    payload["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = OTHER_NUMBER
    body = encode(payload)
    async with httpx.AsyncClient() as http:
        response = await http.post(
            stack.listener.url, content=body, headers=signed_headers(body, APP_SECRET)
        )
    await stack.settle()

    # THEN it is acknowledged and kept in the raw log, marked as another number's
    assert response.status_code == 200
    [raw] = await store.raw.events(after_id=stats_before.total)
    assert raw.phone_number_id == OTHER_NUMBER
    assert raw.other_number
    stats = await store.raw.stats()
    assert stats.other_number == stats_before.other_number + 1
    # AND nothing else changed: no ledger line, no change-feed row, the same state, and
    # the header's spend knows only the configured numbers
    wamid = payload["entry"][0]["changes"][0]["value"]["statuses"][0]["id"]
    assert await store.ledger.for_message(wamid) == []
    assert await store.feed.latest_id() == feed_before
    after = [await store.db.fetch_all(f"SELECT * FROM {t} ORDER BY 1, 2") for t in tables]
    assert after == before
    spend = await stack.service.reading.spend_by_number()
    assert [s.label for s in spend] == ["US", "BR", "DE"]
    assert all(s.today == 0 for s in spend)


async def test_the_blocklist_removes_on_every_number_through_its_own(stack: Stack) -> None:
    service = stack.service
    # GIVEN a blocklisted person (shared by US and BR) and a watcher removing such people
    shared = stack.world_of("US").population.people[0].wa_id
    await service.moderation.block(shared, "spam on every brand")
    watcher = ModerationWatcher(service, ModerationConfig(blocklist_action=RuleAction.AUTO_REMOVE))
    start = await watcher.prepare()
    us_group = await stack.create_group("US shop", number="US")
    br_group = await stack.create_group("Loja BR", number="BR")
    # WHEN they join a group on each number
    await stack.join(us_group, shared, DE)
    await stack.join(br_group, shared, BR)
    await watcher.process(await stack.store.feed.since(start))
    await stack.settle(60)
    # THEN both flags acted, each removal through the group's own number, and the queue
    # says which number each flag is
    flags = await service.moderation.flags_page(("auto_acted",))
    assert {(f.group_id, f.phone_number_id) for f in flags} == {
        (us_group, _ids(stack)["US"]),
        (br_group, _ids(stack)["BR"]),
    }
    assert shared not in stack.world_of("US").groups[us_group].members
    assert shared not in stack.world_of("BR").groups[br_group].members
    assert BR in stack.world_of("BR").groups[br_group].members


async def test_the_10000_groups_limit_is_each_numbers(stack: Stack) -> None:
    us, br = _ids(stack)["US"], _ids(stack)["BR"]
    # GIVEN US already at Meta's 10,000 groups per number
    await stack.store.db.execute_write_fn(
        lambda conn: conn.executemany(
            "INSERT INTO groups(id, subject, state, phone_number_id) VALUES (?, ?, 'active', ?)",
            [(f"G-full-{n}", f"Full {n}", us) for n in range(10_000)],
        )
    )
    # WHEN a group is created on US THEN it is refused before calling the API
    with pytest.raises(ServiceError) as caught:
        await stack.service.admin.create_group("One too many", number="US")
    assert caught.value.refusal is not None and caught.value.refusal.api_code == 131211
    assert "US" in caught.value.message
    assert not stack.world_of("US").groups
    # AND BR, with its own limit, creates one
    group_id = await stack.create_group("Ainda cabe", number="BR")
    assert await stack.service.reading.number_of(group_id) == br
