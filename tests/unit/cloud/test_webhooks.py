"""Signature check and parsing of every recorded webhook body (reference section 3)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from groups_tui.cloud.webhooks import (
    InvalidSignatureError,
    MalformedPayloadError,
    body_number,
    parse_body,
    parse_payload,
    sign_body,
    verify_signature,
)
from groups_tui.domain.events import (
    GroupCreated,
    GroupCreateFailed,
    GroupDeleted,
    GroupDeleteFailed,
    GroupSuspendCleared,
    GroupSuspended,
    InboundMessage,
    JoinRequestCreated,
    JoinRequestRevoked,
    MessageStatus,
    ParticipantRef,
    ParticipantsJoined,
    ParticipantsLeft,
    ParticipantsRemoved,
    ParticipantsRemoveFailed,
    SettingsChanged,
    SettingsChangeFailed,
    UnknownEvent,
    normalize_input,
)
from groups_tui.domain.models import DeliveryState, MessageKind
from tests.helpers.signing import TEST_APP_SECRET, encode
from tests.helpers.webhooks import fixture, fixture_bytes, fixture_names

GROUP = "Y2FwaV9ncm91cDoxNzA1NTU1MDEzOToxMjAzNjM0MDQ2OTQyMzM4MjAZD"
WAMID = "wamid.HBgLMTY0NjcwNDM1OTUVAgARGBI4MjZGRDA0OUE2OTQ3RkEyMzcA"

EXPECTED_TYPES: dict[str, list[type]] = {
    "batched_mixed": [GroupCreated, ParticipantsJoined, InboundMessage, MessageStatus],
    "group_status_suspend": [GroupSuspended],
    "group_status_suspend_cleared": [GroupSuspendCleared],
    "lifecycle_group_create": [GroupCreated],
    "lifecycle_group_create_failed": [GroupCreateFailed],
    "lifecycle_group_delete": [GroupDeleted],
    "lifecycle_group_delete_failed": [GroupDeleteFailed],
    "messages_inbound_bsuid": [InboundMessage],
    "messages_inbound_image": [InboundMessage],
    "messages_inbound_reaction": [InboundMessage],
    "messages_inbound_text": [InboundMessage],
    "messages_inbound_unsupported": [InboundMessage],
    "participants_add_approved": [ParticipantsJoined],
    "participants_add_bsuid": [ParticipantsJoined],
    "participants_add_invite_link": [ParticipantsJoined],
    "participants_join_request_created": [JoinRequestCreated],
    "participants_join_request_revoked": [JoinRequestRevoked],
    "participants_leave": [ParticipantsLeft],
    "participants_remove_business": [ParticipantsRemoved],
    "participants_remove_failed": [ParticipantsRemoveFailed],
    "participants_remove_partial_failure": [ParticipantsRemoved, ParticipantsRemoveFailed],
    "settings_update_failed": [SettingsChangeFailed],
    "settings_update_partial_failure": [SettingsChanged, SettingsChangeFailed],
    "settings_update_success": [SettingsChanged],
    "statuses_delivered_aggregated": [MessageStatus, MessageStatus],
    "statuses_delivered_legacy_layout": [MessageStatus, MessageStatus],
    "statuses_delivered_one_to_one": [MessageStatus],
    "statuses_failed": [MessageStatus],
    "statuses_read_bsuid": [MessageStatus],
    "statuses_read_no_pricing": [MessageStatus],
    "statuses_read_with_pricing": [MessageStatus],
    "statuses_sent_group": [MessageStatus],
    "unknown_envelope_placeholder": [UnknownEvent],
    "unknown_field": [UnknownEvent],
}


def parse(name: str) -> list[Any]:
    return parse_payload(fixture(name))


def only(name: str) -> Any:
    events = parse(name)
    assert len(events) == 1
    return events[0]


# --- signature --------------------------------------------------------------------------


def test_good_signature_passes() -> None:
    body = fixture_bytes("lifecycle_group_create")
    verify_signature(body, sign_body(body, TEST_APP_SECRET), TEST_APP_SECRET)


def test_signature_prefix_and_hex_case_are_tolerated() -> None:
    body = b'{"object":"whatsapp_business_account","entry":[]}'
    header = sign_body(body, TEST_APP_SECRET)
    verify_signature(body, "SHA256=" + header[7:].upper(), TEST_APP_SECRET)


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "missing"),
        ("", "missing"),
        ("sha1=abc", "malformed"),
        ("deadbeef", "malformed"),
        ("sha256=" + "0" * 64, "mismatch"),
        ("sha256=zz", "mismatch"),
        ("sha256=\u00e9\u00e9", "mismatch"),
    ],
    ids=["absent", "empty", "sha1", "no-prefix", "wrong-digest", "short", "non-ascii"],
)
def test_bad_signatures_raise(header: str | None, reason: str) -> None:
    with pytest.raises(InvalidSignatureError) as caught:
        verify_signature(b"{}", header, TEST_APP_SECRET)
    assert caught.value.reason == reason


def test_signature_over_other_bytes_or_secret_fails() -> None:
    body = fixture_bytes("statuses_sent_group")
    reserialised = encode(json.loads(body))
    with pytest.raises(InvalidSignatureError):
        verify_signature(reserialised, sign_body(body, TEST_APP_SECRET), TEST_APP_SECRET)
    with pytest.raises(InvalidSignatureError):
        verify_signature(body, sign_body(body, "other-secret"), TEST_APP_SECRET)


# --- every fixture ----------------------------------------------------------------------


def test_every_fixture_has_an_expectation() -> None:
    assert sorted(EXPECTED_TYPES) == fixture_names()


@pytest.mark.parametrize("name", sorted(EXPECTED_TYPES))
def test_fixture_parses_to_expected_types(name: str) -> None:
    events = parse(name)
    assert [type(e) for e in events] == EXPECTED_TYPES[name]
    for event in events:
        assert isinstance(event.at, int)
        assert event.dedupe_key
    assert events == parse_body(fixture_bytes(name))


def test_group_created() -> None:
    event = only("lifecycle_group_create")
    assert event == GroupCreated(
        request_id="106540352242922",
        group_id=GROUP,
        subject="Order 1042 - delivery coordination",
        invite_link="https://chat.whatsapp.com/AbCdEfGhIjKlMnOp",
        join_approval_mode="approval_required",
        at=1767225605,
    )


def test_group_create_failed_reads_numeric_code() -> None:
    event = only("lifecycle_group_create_failed")
    assert event.request_id == "106540352242922"
    assert event.description == "Driver, warehouse and customer for order 1042."
    assert event.errors[0].code == 131211
    assert event.errors[0].title == "Group create limit reached"
    assert event.errors[0].details == "<ERROR_DETAILS>"


def test_group_delete_and_its_failure() -> None:
    deleted = only("lifecycle_group_delete")
    assert deleted == GroupDeleted(group_id=GROUP, request_id="<REQUEST_ID>", at=1767312000)
    failed = only("lifecycle_group_delete_failed")
    assert failed.group_id == GROUP
    assert failed.errors[0].code is None
    assert failed.errors[0].title == "<ERROR_TITLE>"


def test_join_by_invite_link_and_approval() -> None:
    joined = only("participants_add_invite_link")
    assert joined.via == "invite_link"
    assert joined.participants == (ParticipantRef(wa_id="16505551234"),)
    assert joined.at == 1767226000
    approved = only("participants_add_approved")
    assert approved.at == 1767226300
    assert approved.participants[0].key == "447700900123"
    assert approved.participants[0].input == "+447700900123"


def test_join_by_business_scoped_user_id() -> None:
    joined = only("participants_add_bsuid")
    person = joined.participants[0]
    assert person.wa_id is None
    assert person.key == "US.13491208655302741918"
    assert person.username == "@ana.w"
    assert person.parent_user_id == "US.ENT.11815799212886844830"


def test_join_request_created_and_revoked() -> None:
    created = only("participants_join_request_created")
    revoked = only("participants_join_request_revoked")
    assert created.join_request_id == revoked.join_request_id
    assert created.participant.key == "447700900123"
    assert created.reason == "<REASON_FOR_REQUEST_OUTCOME>"
    assert (created.at, revoked.at) == (1767226100, 1767226200)
    assert created.dedupe_key != revoked.dedupe_key


def test_removed_by_business_identifies_by_input() -> None:
    removed = only("participants_remove_business")
    assert removed.initiated_by == "business"
    assert removed.request_id == "<REQUEST_ID>"
    assert [p.key for p in removed.participants] == ["16505551234", "447700900123"]


def test_removal_partly_failed_yields_both_halves() -> None:
    removed, failed = parse("participants_remove_partial_failure")
    assert [p.key for p in removed.participants] == ["16505551234"]
    assert [f.participant.key for f in failed.failed] == ["15550001111"]
    assert failed.failed[0].errors[0].code == 131212
    assert failed.errors[0].title == "Not All Participants Remove Succeeded"
    assert removed.dedupe_key != failed.dedupe_key


def test_removal_failed_entirely() -> None:
    failed = only("participants_remove_failed")
    assert [f.participant.key for f in failed.failed] == ["15550001111", "15550002222"]
    assert all(f.errors == () for f in failed.failed)
    assert failed.errors[0].title == "<ERROR_TITLE>"


def test_leave_is_not_a_removal() -> None:
    left = only("participants_leave")
    assert left == ParticipantsLeft(
        group_id=GROUP, participants=(ParticipantRef(wa_id="16505551234"),), at=1767228000
    )


def test_initiated_by_outside_the_item_is_read() -> None:
    payload = fixture("participants_leave")
    value = payload["entry"][0]["changes"][0]["value"]
    value["initiated_by"] = value["groups"][0].pop("initiated_by")
    assert isinstance(parse_payload(payload)[0], ParticipantsLeft)


def test_settings_all_succeeded() -> None:
    changed = only("settings_update_success")
    assert changed.subject == "Order 1042 - delivered"
    assert changed.description == "Delivery done. Group closes on Friday."
    assert changed.picture is not None and changed.picture.sha256 == "<PHOTO_HASH>"


def test_settings_partly_failed_applies_only_successes() -> None:
    changed, failed = parse("settings_update_partial_failure")
    assert (changed.subject, changed.description) == (None, None)
    assert changed.picture is not None
    assert [f.setting for f in failed.failures] == ["subject", "description"]
    assert failed.failures[0].value == "Order 1042 - delivered"


def test_settings_all_failed() -> None:
    failed = only("settings_update_failed")
    assert [f.setting for f in failed.failures] == ["subject", "description", "picture"]
    assert failed.failures[2].errors[0].code == 131209


def test_settings_part_absent_is_not_a_change() -> None:
    payload = fixture("settings_update_success")
    item = payload["entry"][0]["changes"][0]["value"]["groups"][0]
    del item["profile_picture"], item["group_description"]
    (changed,) = parse_payload(payload)
    assert (changed.subject, changed.description, changed.picture) == (
        "Order 1042 - delivered",
        None,
        None,
    )


def test_suspension_and_clearing() -> None:
    assert only("group_status_suspend") == GroupSuspended(group_id=GROUP, at=1767230000)
    assert only("group_status_suspend_cleared") == GroupSuspendCleared(
        group_id=GROUP, at=1767230500
    )


def test_inbound_text_message() -> None:
    message = only("messages_inbound_text")
    assert message.wamid == "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="
    assert message.group_id == GROUP
    assert message.kind is MessageKind.TEXT
    assert message.text == "I'm at the gate, where do I leave it?"
    assert message.sender == ParticipantRef(wa_id="16505551234", profile_name="Sheena Nelson")
    assert message.at == 1767231000


def test_inbound_unsupported_carries_error() -> None:
    message = only("messages_inbound_unsupported")
    assert message.kind is MessageKind.UNSUPPORTED
    assert message.errors[0].code == 130501


def test_inbound_image_and_reply_context() -> None:
    message = only("messages_inbound_image")
    assert message.kind is MessageKind.IMAGE
    assert message.media is not None
    assert (message.media.id, message.media.mime_type, message.media.sha256) == (
        "1479537139650973",
        "image/jpeg",
        "IMAGE_HASH",
    )
    assert message.text == "Photo of the gate"
    assert message.reply_to == WAMID


def test_inbound_reaction_keeps_raw_extras() -> None:
    message = only("messages_inbound_reaction")
    assert message.kind is MessageKind.REACTION
    assert message.text == "\U0001f44d"
    assert message.extras["reaction"]["message_id"] == WAMID


def test_inbound_from_user_without_phone_number() -> None:
    message = only("messages_inbound_bsuid")
    assert message.sender.wa_id is None
    assert message.sender.key == "US.13491208655302741918"
    assert (message.sender.username, message.sender.profile_name) == ("@ana.w", "Ana")


def test_group_level_sent_status_has_no_participant() -> None:
    status = only("statuses_sent_group")
    assert status.group_id == GROUP
    assert status.participant is None
    assert status.state is DeliveryState.SENT


def test_aggregated_delivered_statuses_with_pricing() -> None:
    first, second = parse("statuses_delivered_aggregated")
    assert [first.participant_key, second.participant_key] == ["16505551234", "447700900123"]
    assert first.pricing is not None
    assert (first.pricing.billable, first.pricing.category, first.pricing.type) == (
        True,
        "group_utility",
        "regular",
    )
    assert first.dedupe_key != second.dedupe_key


def test_legacy_layout_spelling_and_pricing_inside_conversation() -> None:
    modern = parse("statuses_delivered_aggregated")
    legacy = parse("statuses_delivered_legacy_layout")
    assert [e.participant_key for e in legacy] == [e.participant_key for e in modern]
    assert [e.status for e in legacy] == [e.status for e in modern]
    assert legacy[0].pricing is not None and legacy[0].pricing.category == "group_utility"
    assert legacy[0].conversation_id == "CONVERSATION_ID"


def test_read_statuses_with_and_without_pricing() -> None:
    free = only("statuses_read_with_pricing")
    assert free.pricing is not None and free.pricing.billable is False
    assert only("statuses_read_no_pricing").pricing is None


def test_status_for_user_without_phone_number() -> None:
    status = only("statuses_read_bsuid")
    assert status.participant is not None
    assert status.participant.wa_id is None
    assert status.participant_key == "US.13491208655302741918"
    assert status.participant.username == "@ana.w"


def test_failed_status() -> None:
    status = only("statuses_failed")
    assert status.state is DeliveryState.FAILED
    assert status.errors[0].code == 131020
    assert status.errors[0].details == "Cannot send messages to single member groups."


def test_unknown_field_is_kept_verbatim() -> None:
    event = only("unknown_field")
    assert event.field == "group_admin_update"
    assert event.at == 0
    assert event.raw == fixture("unknown_field")["entry"][0]["changes"][0]["value"]


# --- tolerance --------------------------------------------------------------------------


@pytest.mark.parametrize("stamp", ["1767226000", 1767226000, 1767226000.0, " 1767226000 "])
def test_timestamp_as_string_or_number(stamp: Any) -> None:
    payload = fixture("participants_add_invite_link")
    payload["entry"][0]["changes"][0]["value"]["groups"][0]["timestamp"] = stamp
    assert parse_payload(payload)[0].at == 1767226000


def test_error_code_as_string() -> None:
    payload = fixture("statuses_failed")
    payload["entry"][0]["changes"][0]["value"]["statuses"][0]["errors"][0]["code"] = "131020"
    assert parse_payload(payload)[0].errors[0].code == 131020


def test_item_missing_required_field_becomes_unknown_and_others_survive() -> None:
    payload = fixture("batched_mixed")
    broken = copy.deepcopy(payload["entry"][0]["changes"][0])
    del broken["value"]["groups"][0]["group_id"]
    payload["entry"][0]["changes"].insert(0, broken)
    events = parse_payload(payload)
    assert isinstance(events[0], UnknownEvent)
    assert "group_id" in events[0].reason
    assert [type(e) for e in events[1:]] == EXPECTED_TYPES["batched_mixed"]


def test_normalize_input() -> None:
    assert normalize_input("+1 (650) 555-1234") == "16505551234"
    assert normalize_input("US.13491208655302741918") == "US.13491208655302741918"


@pytest.mark.parametrize("payload", [[], "x", 1, None, 2.5, True])
def test_non_object_top_level_is_malformed(payload: Any) -> None:
    with pytest.raises(MalformedPayloadError):
        parse_payload(payload)


def test_body_that_is_not_json_is_malformed() -> None:
    with pytest.raises(MalformedPayloadError):
        parse_body(b"\xff{not json")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=25,
)


def _mutate(payload: Any, path: list[Any], replacement: Any) -> Any:
    node = payload
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = replacement
    return payload


def _paths(node: Any, prefix: list[Any]) -> list[list[Any]]:
    found: list[list[Any]] = []
    if isinstance(node, dict):
        for key, child in node.items():
            found.append([*prefix, key])
            found.extend(_paths(child, [*prefix, key]))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found.append([*prefix, index])
            found.extend(_paths(child, [*prefix, index]))
    return found


@settings(max_examples=400, deadline=None)
@given(
    name=st.sampled_from(sorted(EXPECTED_TYPES)),
    data=st.data(),
    replacement=json_values,
)
def test_mutated_fixtures_never_raise(name: str, data: st.DataObject, replacement: Any) -> None:
    payload = fixture(name)
    path = data.draw(st.sampled_from(_paths(payload, [])))
    events = parse_payload(_mutate(payload, path, replacement))
    for event in events:
        assert isinstance(event.at, int)
        assert isinstance(event.dedupe_key, str)


@settings(max_examples=200, deadline=None)
@given(payload=st.dictionaries(st.text(max_size=10), json_values, max_size=5))
def test_random_objects_never_raise(payload: dict[str, Any]) -> None:
    for event in parse_payload(payload):
        assert isinstance(event.dedupe_key, str)


def test_every_event_names_the_number_its_change_is_for() -> None:
    # GIVEN Meta's 1:1 status sample, and a batch of several changes
    [status] = parse("statuses_delivered_one_to_one")
    # THEN the number comes from the change's metadata, for every event
    assert status.phone_number_id == "106540352242922"
    assert status.group_id is None and status.pricing is not None
    assert {e.phone_number_id for e in parse("batched_mixed")} == {"106540352242922"}
    # AND a change naming another number gives its events that number (and equality
    # of events does not depend on it: a delivery is the same whichever the number)
    payload = fixture("statuses_delivered_one_to_one")
    payload["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = 106540352242999
    [other] = parse_payload(payload)
    assert other.phone_number_id == "106540352242999"
    assert other == status
    assert body_number(payload) == "106540352242999"
    assert body_number({"entry": [{"changes": [{"value": {}}]}]}) is None
