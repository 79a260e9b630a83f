"""The audit log names every operator step, its group and what the API answered."""

from __future__ import annotations

import pytest

from groups_tui.domain.models import TemplateCategory
from groups_tui.service import ServiceError
from groups_tui.store.records import AuditEntry

from .support import BR, DE, MX, OP_DELAY, OPERATOR, STATUS_HORIZON, Stack
from .support import params_for as params


async def test_every_operator_step_is_audited(stack: Stack) -> None:
    service = stack.service
    # GIVEN an operator session: create, message, remove, rename, moderate, delete
    create = await service.admin.create_group("Order 7007")
    await stack.settle(OP_DELAY)
    group = await stack.store.groups.get_by_request(create.request_id)
    assert group is not None and group.id
    gid = group.id
    await stack.join(gid, DE, BR, MX)
    await stack.say(gid, DE, "Hello")
    utility = await stack.template(TemplateCategory.UTILITY)
    preview = await service.sending.preview_cost(gid, utility)
    text = await service.sending.send_text(gid, "Driver is 10 minutes away")
    template = await service.sending.send_template(gid, utility, params(utility))
    removal = await service.admin.remove_participants(gid, [BR])
    settings = await service.admin.update_settings(gid, subject="Order 7007 - done")
    await stack.settle(STATUS_HORIZON)

    approval = await service.admin.create_group("Order 7008", join_approval=True)
    await stack.settle(OP_DELAY)
    approval_group = await stack.store.groups.get_by_request(approval.request_id)
    assert approval_group is not None and approval_group.id
    aid = approval_group.id
    yes = stack.world.persons.request_join(aid, "5215512345100")
    no = stack.world.persons.request_join(aid, "5215512345101")
    await stack.settle()
    await service.admin.approve_join_requests(aid, [yes])
    await service.admin.reject_join_requests(aid, [no])
    with pytest.raises(ServiceError):
        await service.sending.send_text(aid, "nobody wrote yet")
    await service.admin.delete_group(gid)
    await stack.settle(OP_DELAY)

    # WHEN the audit log is read
    entries = await stack.audit()

    # THEN it holds each step that reached the API, in order, by this operator
    assert [(e.action, e.group_id) for e in entries] == [
        ("group.create", None),
        ("send.text", gid),
        ("send.template", gid),
        ("participants.remove", gid),
        ("group.settings", gid),
        ("group.create", None),
        ("join_requests.approve", aid),
        ("join_requests.reject", aid),
        ("group.delete", gid),
    ]
    assert {e.os_user for e in entries} == {OPERATOR}
    by_action: dict[str, list[AuditEntry]] = {}
    for entry in entries:
        by_action.setdefault(entry.action, []).append(entry)
    # AND each entry records what the API answered
    creates = by_action["group.create"]
    assert [(e.targets, e.api_result) for e in creates] == [
        (["Order 7007"], create.request_id),
        (["Order 7008"], approval.request_id),
    ]
    assert by_action["send.text"][0].api_result == {"wamid": text.wamid}
    [sent_template] = by_action["send.template"]
    assert sent_template.api_result == {"wamid": template.wamid}
    assert sent_template.cost == preview.total
    assert by_action["participants.remove"][0].targets == [BR]
    assert by_action["participants.remove"][0].api_result == removal.request_id
    assert by_action["group.settings"][0].api_result == settings.request_id
    assert by_action["join_requests.approve"][0].api_result["approved"] == [yes]
    assert by_action["join_requests.reject"][0].api_result["rejected"] == [no]
    assert by_action["group.delete"][0].targets == ["Order 7007 - done"]
    # AND every operation the steps started was settled by its webhook
    ops = await stack.store.operations.pending(None)
    assert {op.kind: op.state for op in ops} == {
        "create": "done",
        "remove": "done",
        "settings": "done",
        "delete": "done",
    }
    assert len(ops) == 5
