"""How one message is laid out in the conversation log."""

from __future__ import annotations

from rich.style import Style

from groups_tui.domain.models import Direction, Media, Message, MessageKind
from groups_tui.service.types import MessageView
from groups_tui.ui.widgets.message_log import message_lines

STYLES = {
    name: Style()
    for name in ("header", "outbound", "system", "status", "failed", "highlight", "more")
}
AT = 1_789_473_600


def _document(size: int | None) -> MessageView:
    media = Media(
        MessageKind.DOCUMENT, mime_type="application/pdf", size=size, filename="invoice.pdf"
    )
    message = Message(
        id="wamid.1",
        group_id="g",
        direction=Direction.INBOUND,
        kind=MessageKind.DOCUMENT,
        sender_key="447700900001",
        sender_name="Ann",
        sender_wa_id="447700900001",
        at=AT,
        media=media,
    )
    return MessageView(message)


def test_media_line_states_kind_name_size_and_type() -> None:
    lines = [t.plain for t in message_lines(_document(2_400_000), AT, STYLES)]
    assert lines[1] == "  ‹document› invoice.pdf · 2.4 MB · application/pdf"


def test_media_line_leaves_out_a_size_the_webhook_did_not_state() -> None:
    lines = [t.plain for t in message_lines(_document(None), AT, STYLES)]
    assert lines[1] == "  ‹document› invoice.pdf · application/pdf"
