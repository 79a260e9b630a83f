"""The administration read models and invite sends of the real service, over the sandbox."""

from __future__ import annotations

from tests.integration.e2e.support import BR, DE, OP_DELAY, Stack


async def test_send_invites_audits_each_send_with_its_cost(stack: Stack) -> None:
    service = stack.service
    group_id = await stack.create_group("Invites")
    template = await service.sending.invite_template()
    assert template is not None and template.name == "group_invite_upon_request"
    preview = service.sending.invite_preview([DE], template)
    # WHEN the operator invites a valid number and an invalid one
    outcomes = await service.sending.send_invites(group_id, [DE, "+999"], template)
    # THEN one is accepted, one failed with Meta's reason, and both are audited
    assert [o.state for o in outcomes] == ["accepted", "failed"]
    assert "not a valid WhatsApp user" in (outcomes[1].error or "")
    sends = [e for e in await stack.audit() if e.action == "invite.send"]
    assert [e.targets for e in sends] == [[DE], ["999"]]
    assert sends[0].cost == preview.total and sends[0].api_result["wamid"]


async def test_member_rows_combine_activity_history_and_contacts(stack: Stack) -> None:
    service = stack.service
    group_id = await stack.create_group("Rows")
    await stack.join(group_id, DE, BR)
    await stack.say(group_id, BR, "hello there")
    rows = {r.member.wa_id: r for r in await service.admin.member_rows(group_id)}
    assert rows[BR].message_count == 1 and rows[BR].last_message == "hello there"
    assert rows[DE].message_count == 0 and rows[DE].country == "DE"
    await service.admin.set_contact(rows[DE].member.key, display_name="Dieter", note="VIP")
    await service.admin.remove_participants(group_id, [BR])
    rows = {r.member.wa_id: r for r in await service.admin.member_rows(group_id)}
    assert rows[DE].contact_name == "Dieter" and rows[BR].removing
    await stack.settle(OP_DELAY)
    history = await service.admin.member_history(group_id)
    assert [h.action for h in history][-1] == "remove"
    people = {p.wa_id for p in await service.admin.known_people()}
    assert DE in people
    assert [e.action for e in await service.admin.audit_page(limit=2)] == [
        "participants.remove",
        "contact.update",
    ]
