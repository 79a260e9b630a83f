"""Pick an approved template, fill its parameters and see what it would cost."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from groups_tui.domain.models import MessageKind, Template, TemplateCategory
from groups_tui.domain.pricing import CostPreview as Preview
from groups_tui.service.types import GroupDetail
from groups_tui.ui.screen_roles import ShowsGroup
from groups_tui.ui.screens._base import AppModal
from groups_tui.ui.widgets.cost_preview import CostPreview
from groups_tui.ui.widgets.safe_text import fit, safe

__all__ = ["TemplateChoice", "TemplatePicker"]


@dataclass(frozen=True, slots=True)
class TemplateChoice:
    """What the operator chose to send.

    Attributes:
        template: The approved template.
        params: Body parameters, in ``{{1}}``, ``{{2}}``… order.
    """

    template: Template
    params: tuple[str, ...]


class TemplatePicker(AppModal[TemplateChoice | None], ShowsGroup):
    """A modal listing approved templates with their category.

    Highlighting a template shows a form for its body parameters and a live
    :class:`~groups_tui.ui.widgets.cost_preview.CostPreview` computed by the service for
    this group right now. Templates the group cannot receive (authentication) are listed
    but disabled, with the reason. Ctrl+S sends; Escape cancels.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="tpl.cancel", tooltip="Close without sending"),
        Binding(
            "ctrl+s",
            "choose",
            "Send",
            id="tpl.send",
            priority=True,
            tooltip="Send the highlighted template with these parameters",
        ),
    ]
    """Picker keys."""

    @dataclass
    class PreviewReady(Message):
        """The cost preview for a template arrived.

        Attributes:
            key: ``(name, language)`` of the template it was computed for.
            preview: The preview.
        """

        key: tuple[str, str]
        preview: Preview

    def __init__(self, group_id: str, detail: GroupDetail) -> None:
        """Open the picker for one group.

        Args:
            group_id: The group the template would go to.
            detail: Its detail (for the refusal check).
        """
        super().__init__()
        self.group_id = group_id
        self.detail = detail
        self.templates: list[Template] = []
        self.selected: Template | None = None

    def compose(self) -> ComposeResult:
        """The template list, the parameter form and the cost preview."""
        with Vertical(id="picker"):
            yield Static(Text("Send a template", style="bold"), id="picker-title")
            yield OptionList(id="templates")
            yield VerticalScroll(id="params")
            yield Static("", id="picker-reason")
            yield CostPreview(id="cost")
            yield Static(Text("Ctrl+S send · Tab next field · Esc cancel"), id="picker-keys")

    def on_mount(self) -> None:
        """Load the approved templates."""
        self.query_one(OptionList).focus()
        self._load()

    @work(exclusive=True, group="tpl-load", exit_on_error=False)
    async def _load(self) -> None:
        service = self.app.service
        number = self.detail.group.phone_number_id
        if number and len(service.numbers) > 1:
            # A template is its business account's: the group's own number's.
            templates = await service.reading.templates(number=number)
        else:
            templates = await service.reading.templates()
        self.templates = [t for t in templates if t.status.upper() == "APPROVED"]
        options = self.query_one(OptionList)
        options.clear_options()
        for index, template in enumerate(self.templates):
            refusal = self.app.service.sending.refusal(MessageKind.TEMPLATE, self.detail, template)
            label = Text()
            label.append_text(safe(fit(template.name, 40), "bold"))
            label.append(f"  {template.category.value} · {template.language}")
            if template.body_params:
                label.append(f" · {template.body_params} param(s)")
            if template.category is TemplateCategory.AUTHENTICATION or refusal is not None:
                label.append("  (cannot be sent to groups)")
            options.add_option(
                Option(
                    label,
                    id=str(index),
                    disabled=template.category is TemplateCategory.AUTHENTICATION,
                )
            )
        if not self.templates:
            self.query_one(CostPreview).message = "No approved templates."
        else:
            options.highlighted = next(
                (
                    i
                    for i, t in enumerate(self.templates)
                    if t.category is not TemplateCategory.AUTHENTICATION
                ),
                None,
            )

    @on(OptionList.OptionHighlighted, "#templates")
    async def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id is None:
            return
        template = self.templates[int(event.option.id)]
        if template == self.selected:
            return
        self.selected = template
        params = self.query_one("#params", VerticalScroll)
        await params.remove_children()
        await params.mount_all(
            Input(placeholder=f"{{{{{n}}}}} body parameter {n}", id=f"param-{n}")
            for n in range(1, template.body_params + 1)
        )
        refusal = self.app.service.sending.refusal(MessageKind.TEMPLATE, self.detail, template)
        reason = self.query_one("#picker-reason", Static)
        reason.update(safe(f"Cannot send: {refusal.reason}") if refusal else Text(""))
        cost = self.query_one(CostPreview)
        cost.preview = None
        cost.message = "Computing the cost…"
        self._preview(template)

    @on(OptionList.OptionSelected, "#templates")
    def _selected(self) -> None:
        inputs = self.query("#params Input")
        if inputs:
            inputs.first().focus()
        else:
            self.action_choose()

    @work(exclusive=True, group="tpl-preview", exit_on_error=False)
    async def _preview(self, template: Template) -> None:
        preview = await self.app.service.sending.preview_cost(self.group_id, template)
        self.post_message(self.PreviewReady((template.name, template.language), preview))

    @on(PreviewReady)
    def _preview_ready(self, event: PreviewReady) -> None:
        # A late preview for a template no longer highlighted is dropped.
        if self.selected is None or event.key != (self.selected.name, self.selected.language):
            return
        self.query_one(CostPreview).preview = event.preview

    @on(Input.Submitted)
    def _param_submitted(self, event: Input.Submitted) -> None:
        inputs = list(self.query("#params Input").results(Input))
        if event.input is inputs[-1]:
            self.action_choose()
        else:
            inputs[inputs.index(event.input) + 1].focus()

    def action_choose(self) -> None:
        """Send the highlighted template with the parameters typed."""
        template = self.selected
        if template is None:
            return
        refusal = self.app.service.sending.refusal(MessageKind.TEMPLATE, self.detail, template)
        reason = self.query_one("#picker-reason", Static)
        if refusal is not None:
            reason.update(safe(f"Cannot send: {refusal.reason}"))
            return
        params = tuple(i.value for i in self.query("#params Input").results(Input))
        missing = [n for n, value in enumerate(params, 1) if not value.strip()]
        if missing:
            reason.update(Text(f"Fill in parameter {{{{{missing[0]}}}}} first"))
            return
        self.dismiss(TemplateChoice(template, params))

    def action_cancel(self) -> None:
        """Close without sending."""
        self.dismiss(None)
