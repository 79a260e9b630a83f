"""``groups-tui send ...`` and ``cost``: sending to a group and what it would cost."""

from __future__ import annotations

from typing import Any

import click

from groups_tui.cli.common import (
    EXIT_API,
    EXIT_USAGE,
    emit,
    json_option,
    number_option,
    on_number,
    run_async,
    with_service,
)
from groups_tui.cli_output import cell, fail
from groups_tui.completion import complete_group_id

__all__ = ["cost", "send"]


@click.group()
def send() -> None:
    """Send messages to a group."""


@send.command("text")
@click.argument("group_id", shell_complete=complete_group_id)
@click.argument("text")
@number_option
@json_option
@run_async
async def send_text(group_id: str, text: str, number: str | None, as_json: bool) -> None:
    """Send free-form text (only while the group's window is open), through the group's
    own number."""

    async def body(service: Any) -> None:
        await on_number(service, number, group_id)
        await service.reading.sync_group(group_id, number)
        item = await service.sending.send_text(group_id, text)
        emit(item, as_json, lambda i: f"{i.state}: {i.wamid or i.id}", ("error",))
        _fail_unless_accepted(item)

    await with_service(body)()


@send.command("template")
@click.argument("group_id", shell_complete=complete_group_id)
@click.argument("name")
@click.argument("params", nargs=-1)
@click.option("--language", default=None, help="Template language, e.g. en_US.")
@number_option
@json_option
@run_async
async def send_template(
    group_id: str,
    name: str,
    params: tuple[str, ...],
    language: str | None,
    number: str | None,
    as_json: bool,
) -> None:
    """Send an approved template NAME with its body PARAMS (charged; see `cost`), through
    the group's own number."""

    async def body(service: Any) -> None:
        await on_number(service, number, group_id)
        await service.reading.sync_group(group_id, number)
        # The templates of the group's own number's business account.
        own = await service.reading.number_of(group_id) or number
        template = await service.reading.find_template(name, language, refresh=True, number=own)
        item = await service.sending.send_template(group_id, template, params)
        emit(item, as_json, lambda i: f"{i.state}: {i.wamid or i.id}", ("error",))
        _fail_unless_accepted(item)

    await with_service(body)()


def _fail_unless_accepted(item: Any) -> None:
    if item.state == "failed":
        fail(f"send failed: {item.error}", EXIT_API)
    if item.state != "accepted":
        # Unknown: the request may have reached Meta. Not a success, and not to be
        # repeated blindly either (the outbox keeps it as unknown).
        fail(
            f"outcome unknown (outbox item {item.id}): "
            f"{item.error or 'no answer from the API'}; check the conversation "
            "before sending again",
            EXIT_API,
        )


@click.command("cost")
@click.argument("group_id", shell_complete=complete_group_id)
@click.option("--template", "template_name", default=None, help="Template name (default: text).")
@click.option("--language", default=None, help="Template language, e.g. en_US.")
@click.option(
    "--explain",
    is_flag=True,
    help="Per member: market, rate, rule applied, its source and whether it comes from "
    "configuration or from what Meta charged; the range; contradicting evidence.",
)
@number_option
@json_option
@run_async
async def cost(
    group_id: str,
    template_name: str | None,
    language: str | None,
    explain: bool,
    number: str | None,
    as_json: bool,
) -> None:
    """Preview what a send to the group would cost now."""

    async def body(service: Any) -> None:
        await on_number(service, number, group_id)
        await service.reading.sync_group(group_id, number)
        template = None
        if template_name:
            from groups_tui.service import ServiceError

            # The templates of the group's own number's business account.
            own = await service.reading.number_of(group_id) or number
            try:
                template = await service.reading.find_template(template_name, language, number=own)
            except ServiceError as exc:
                fail(exc.message, EXIT_USAGE)
        preview = await service.sending.preview_cost(group_id, template)
        if preview.refusal is not None:
            # The send would be refused: a usage error, with the preview (and its refusal)
            # still on stdout for --json.
            if as_json:
                emit(preview, True, str)
            fail(preview.refusal.reason, EXIT_USAGE)
        if explain:
            from groups_tui.domain.pricing import explain_cost

            explained = explain_cost(preview, await service.sending.pricing_calibration())
            emit(explained, as_json, lambda e: e.text())
            return

        def text(p: Any) -> str:
            lines = [
                f"{cell(ln.name or ln.member_key)}\t{ln.country or '?'}\t{ln.market or '?'}\t"
                f"{'unknown' if ln.rate is None else ln.rate}\t{ln.rule}"
                + (f"\t({ln.note})" if ln.note else "")
                for ln in p.lines
            ]
            total = f"total: {p.total} USD" + (
                f" (lower bound: {len(p.unknown)} rate(s) unknown)" if p.unknown else ""
            )
            if p.is_range:
                total += f" (range {p.low_total} – {p.high_total} USD)"
            disputes = [f"{n.origin.value}: {n.reason}" for n in p.disputes]
            return "\n".join([*lines, total, *disputes])

        emit(preview, as_json, text)

    await with_service(body)()
