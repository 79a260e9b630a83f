"""Pick an approved template, fill its parameters, read the message and its cost, send."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.console import Group as RenderGroup
from rich.console import RenderableType
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from groups_tui.domain.models import MessageKind, Template, TemplateCategory
from groups_tui.domain.pricing import CostPreview as Preview
from groups_tui.domain.templates import RenderedTemplate, parameter_refusal, render_template
from groups_tui.service.types import GroupDetail
from groups_tui.ui.key_order import after_keys_in_flight
from groups_tui.ui.screen_roles import ShowsGroup
from groups_tui.ui.screens._base import AppModal
from groups_tui.ui.widgets.cost_preview import CostPreview
from groups_tui.ui.widgets.safe_text import fit, safe

__all__ = ["KEYS_HINT", "ParamField", "TemplateChoice", "TemplatePicker", "rendered_text"]

KEYS_HINT = "↑↓ template · Tab/Enter next field · Shift+Tab back · ^S send · Esc cancel"
"""The picker's keys, in the order the operator goes through it."""


@dataclass(frozen=True, slots=True)
class TemplateChoice:
    """What the operator chose to send.

    Attributes:
        template: The approved template.
        params: Body parameters, in ``{{1}}``, ``{{2}}``… order.
    """

    template: Template
    params: tuple[str, ...]


class ParamField(Horizontal):
    """One body parameter: its placeholder as a label, and the value's input.

    The label stays when the input holds a value (a placeholder text would vanish), so
    the operator always sees which ``{{n}}`` a value goes into.
    """

    DEFAULT_CSS = """
    ParamField {
        height: 1;
        & > Label { width: 7; padding: 0 1 0 0; text-align: right; }
        & > Input { width: 1fr; }
    }
    """

    def __init__(self, number: int) -> None:
        """A field for ``{{number}}``.

        Args:
            number: The placeholder's number (1-based).
        """
        super().__init__(id=f"param-field-{number}")
        self.number = number

    def compose(self) -> ComposeResult:
        """The label and the input."""
        yield Label(f"{{{{{self.number}}}}}", id=f"param-label-{self.number}")
        yield Input(id=f"param-{self.number}")

    @property
    def input(self) -> Input:
        """Where the value is typed."""
        return self.query_one(Input)


def rendered_text(rendered: RenderedTemplate) -> RenderableType:
    """A filled-in template as the members will read it (untrusted text kept literal).

    A placeholder still without a value is shown reversed, so a blank is seen.
    """
    parts: list[RenderableType] = [Text("Message", style="bold underline")]
    if rendered.header is not None:
        parts.append(safe(rendered.header, "bold"))
    if rendered.body:
        body = Text()
        for piece in _split_missing(rendered.body, rendered.missing):
            if isinstance(piece, int):
                body.append(f"{{{{{piece}}}}}", style="reverse")
            else:
                body.append_text(safe(piece))
        parts.append(body)
    else:
        # The account did not list the body's text: say so, and show every value.
        parts.append(Text(f"[template {rendered.name}] (its text is not known here)"))
        for n, value in enumerate(rendered.values, start=1):
            line = Text(f"{{{{{n}}}}} = ")
            line.append_text(safe(value) if value.strip() else Text("(blank)", style="reverse"))
            parts.append(line)
    if rendered.footer:
        parts.append(safe(rendered.footer, "dim"))
    if rendered.buttons:
        buttons = Text()
        for label in rendered.buttons:
            buttons.append("[ ").append_text(safe(fit(label, 25))).append(" ] ")
        parts.append(buttons)
    return RenderGroup(*parts)


def _split_missing(body: str, missing: tuple[int, ...]) -> list[str | int]:
    """The body cut around each placeholder left without a value."""
    pieces: list[str | int] = [body]
    for n in missing:
        marker = f"{{{{{n}}}}}"
        split: list[str | int] = []
        for piece in pieces:
            if isinstance(piece, int):
                split.append(piece)
                continue
            chunks = piece.split(marker)
            for i, chunk in enumerate(chunks):
                if i:
                    split.append(n)
                if chunk:
                    split.append(chunk)
        pieces = split
    return pieces


class TemplatePicker(AppModal[TemplateChoice | None], ShowsGroup):
    """A modal listing approved templates with their category.

    Highlighting a template shows one labelled field per body parameter (``{{1}}``,
    ``{{2}}``…), the message as the members will read it (header, body with the values
    typed, footer, buttons) and, beside it, a live
    :class:`~groups_tui.ui.widgets.cost_preview.CostPreview` computed by the service
    for this group right now. Templates the group cannot receive are listed with the
    reason; authentication templates are disabled.

    The focus order is explicit: the template list, then ``{{1}}``, ``{{2}}``… (Tab or
    Enter forward, Shift+Tab back). The navigation keys are priority bindings, handled
    in the order they were typed, so what is typed after Tab lands in the field Tab
    reached. Ctrl+S sends, refused while a parameter is blank; Escape cancels.
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
        Binding(
            "tab",
            "next_field",
            "Next field",
            id="tpl.next_field",
            priority=True,
            tooltip="From the list to {{1}}, {{2}}…",
        ),
        Binding(
            "shift+tab",
            "previous_field",
            "Previous field",
            id="tpl.previous_field",
            priority=True,
            tooltip="Back towards the template list",
        ),
        Binding(
            "enter",
            "enter",
            "Next",
            id="tpl.enter",
            priority=True,
            show=False,
            tooltip="Next field; on the last one (or a template without parameters), send",
        ),
        Binding(
            "down",
            "move(1)",
            "Next template",
            id="tpl.down",
            priority=True,
            show=False,
            tooltip="Next template (in the list) or next field",
        ),
        Binding(
            "up",
            "move(-1)",
            "Previous template",
            id="tpl.up",
            priority=True,
            show=False,
            tooltip="Previous template (in the list) or previous field",
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
        self._fields: list[ParamField] = []
        self._complaint: str | None = None
        """Why the last Ctrl+S was refused for the parameters, until they change."""

    def compose(self) -> ComposeResult:
        """The template list, the parameter fields, the message beside its cost."""
        with Vertical(id="picker"):
            yield Static(Text("Send a template", style="bold"), id="picker-title")
            yield OptionList(id="templates")
            yield Vertical(id="params")
            yield Static("", id="picker-reason")
            with Horizontal(id="picker-body"):
                yield Static("", id="rendered")
                yield CostPreview(id="cost")
            yield Static(Text(KEYS_HINT), id="picker-keys")

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
        # The fields are mounted once, as many as the longest template needs; choosing
        # a template then only shows, labels and clears them (nothing is mounted while
        # the operator types, so no keystroke can reach a field about to be replaced).
        most = max((t.body_params for t in self.templates), default=0)
        self._fields = [ParamField(n) for n in range(1, most + 1)]
        for param in self._fields:
            param.display = False
        await self.query_one("#params", Vertical).mount_all(self._fields)
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
            self._sync_form()

    # ------------------------------------------------------------------ the form

    def _highlighted_template(self) -> Template | None:
        index = self.query_one(OptionList).highlighted
        if index is None or not 0 <= index < len(self.templates):
            return None
        return self.templates[index]

    def _sync_form(self) -> None:
        """Show the fields, message and cost of the highlighted template (synchronously)."""
        template = self._highlighted_template()
        if template is None or template == self.selected:
            return
        self.selected = template
        for param in self._fields:
            shown = param.number <= template.body_params
            param.display = shown
            param.input.value = ""
        self._complaint = None
        self._show_reason()
        self._render_message()
        cost = self.query_one(CostPreview)
        cost.preview = None
        cost.message = "Computing the cost…"
        self._preview(template)

    def params(self) -> tuple[str, ...]:
        """The values typed for the selected template, in ``{{1}}``… order."""
        count = self.selected.body_params if self.selected else 0
        return tuple(param.input.value for param in self._fields[:count])

    def rendered(self) -> RenderedTemplate | None:
        """The selected template filled in with what is typed."""
        if self.selected is None:
            return None
        return render_template(self.selected, self.params())

    def _render_message(self) -> None:
        rendered = self.rendered()
        self.query_one("#rendered", Static).update(
            rendered_text(rendered) if rendered is not None else Text("")
        )

    def _show_reason(self) -> None:
        """Why the selected template cannot be sent: the group's refusal, else the last
        complaint about the parameters."""
        template = self.selected
        refusal = (
            self.app.service.sending.refusal(MessageKind.TEMPLATE, self.detail, template)
            if template is not None
            else None
        )
        text = f"Cannot send: {refusal.reason}" if refusal is not None else self._complaint
        self.query_one("#picker-reason", Static).update(safe(text) if text else Text(""))

    @on(Input.Changed)
    def _param_changed(self) -> None:
        self._render_message()
        if self._complaint is not None:
            self._complaint = None
            self._show_reason()

    @on(OptionList.OptionHighlighted, "#templates")
    def _highlighted(self) -> None:
        self._sync_form()

    @on(OptionList.OptionSelected, "#templates")
    def _selected(self) -> None:
        # A mouse click on a template; the keyboard's Enter is a priority binding.
        self._sync_form()
        self._to_field(0)

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

    # ------------------------------------------------------------------ focus order

    def _stops(self) -> list[Widget]:
        """The focus order: the list, then the selected template's fields."""
        count = self.selected.body_params if self.selected else 0
        return [self.query_one(OptionList), *(p.input for p in self._fields[:count])]

    def _position(self) -> int:
        stops = self._stops()
        return stops.index(self.focused) if self.focused in stops else 0

    def _to_field(self, index: int) -> None:
        """Focus stop ``index`` now (not after a refresh: the next key must land there)."""
        stops = self._stops()
        self.set_focus(stops[index % len(stops)])

    def action_next_field(self) -> None:
        """Go to the next stop (after the last field, back to the list)."""
        self._sync_form()
        self._to_field(self._position() + 1)

    def action_previous_field(self) -> None:
        """Go to the previous stop."""
        self._sync_form()
        self._to_field(self._position() - 1)

    def action_enter(self) -> None:
        """Next field; from the last field, or a template without parameters, send."""
        self._sync_form()
        position = self._position()
        if position + 1 < len(self._stops()):
            self._to_field(position + 1)
        else:
            self.action_choose()

    def action_move(self, step: int) -> None:
        """In the list, highlight another template; in a field, go to another field."""
        options = self.query_one(OptionList)
        if self.focused is options:
            if step > 0:
                options.action_cursor_down()
            else:
                options.action_cursor_up()
            self._sync_form()
            return
        position = self._position() + step
        if position >= 1:
            self._to_field(min(position, len(self._stops()) - 1))

    # ------------------------------------------------------------------ sending

    def action_choose(self) -> None:
        """Send the highlighted template with the parameters typed, none blank.

        Run once the keys read before it are in the boxes (see
        :func:`~groups_tui.ui.key_order.after_keys_in_flight`).
        """
        after_keys_in_flight(self.app, self._choose_now)

    def _choose_now(self) -> None:
        self._sync_form()
        template = self.selected
        if template is None:
            return
        if self.app.service.sending.refusal(MessageKind.TEMPLATE, self.detail, template):
            self._show_reason()
            return
        refusal = parameter_refusal(template, self.params())
        if refusal is not None:
            self._complaint = f"Not sent: {refusal.reason}"
            self._show_reason()
            rendered = self.rendered()
            if rendered is not None and rendered.missing:
                self._to_field(rendered.missing[0])
            return
        self.dismiss(TemplateChoice(template, self.params()))

    def action_cancel(self) -> None:
        """Close without sending."""
        self.dismiss(None)
