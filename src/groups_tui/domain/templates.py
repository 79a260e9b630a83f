"""A message template as the members will read it, and the parameters a send must give.

The template's components (``HEADER``, ``BODY``, ``FOOTER``, ``BUTTONS``, as the Graph API
lists them) are rendered with the operator's body parameters, so that what is shown
before sending, what the timeline keeps and what is sent come from one definition.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from groups_tui.domain.models import Template
from groups_tui.domain.sending import Refusal

__all__ = [
    "PLACEHOLDER",
    "RenderedTemplate",
    "component_text",
    "parameter_refusal",
    "placeholder_count",
    "render_template",
]

PLACEHOLDER = re.compile(r"\{\{\s*(\d+)\s*\}\}")
"""A positional placeholder, ``{{1}}``."""


def placeholder_count(text: str) -> int:
    """How many distinct positional placeholders ``text`` holds (``{{1}}`` twice is one)."""
    return len(set(PLACEHOLDER.findall(text)))


def component_text(template: Template, kind: str) -> str | None:
    """The text of the template's first component of ``kind`` (``BODY``, ``FOOTER``...)."""
    for component in template.components:
        if str(component.get("type", "")).upper() == kind:
            text = component.get("text")
            return str(text) if text is not None else None
    return None


@dataclass(frozen=True, slots=True)
class RenderedTemplate:
    """A template filled in with body parameters.

    Attributes:
        name: The template's name.
        header: The header's text, ``‹image›`` and the like for a media header, or
            ``None`` without a header.
        body: The body with each ``{{n}}`` replaced by its parameter; a placeholder with
            no value stays ``{{n}}``.
        footer: The footer's text, if any.
        buttons: The buttons' labels, in order.
        missing: Placeholders (1-based) that have no value yet.
        values: The body parameters given, in order.
    """

    name: str
    header: str | None
    body: str
    footer: str | None = None
    buttons: tuple[str, ...] = ()
    missing: tuple[int, ...] = ()
    values: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        """The body, as the conversation keeps the message (the name when it has none)."""
        return self.body or f"[template {self.name}]"


def render_template(template: Template, params: Sequence[str]) -> RenderedTemplate:
    """Fill the template's body with ``params`` (``{{1}}`` is ``params[0]``).

    Args:
        template: The template, with its components as the API lists them.
        params: Body parameter values, in order; an empty or missing value leaves its
            placeholder in place and is listed in :attr:`RenderedTemplate.missing`.

    Returns:
        The header, body, footer and buttons as the members would read them.
    """
    missing: set[int] = set()

    def fill(match: re.Match[str]) -> str:
        n = int(match.group(1))
        value = params[n - 1] if 0 < n <= len(params) else ""
        if not value.strip():
            missing.add(n)
            return match.group(0)
        return value

    header: str | None = None
    body = ""
    footer: str | None = None
    buttons: list[str] = []
    for component in template.components:
        kind = str(component.get("type", "")).upper()
        if kind == "HEADER":
            fmt = str(component.get("format", "TEXT")).upper()
            text = component.get("text")
            header = str(text) if fmt == "TEXT" and text is not None else f"‹{fmt.lower()}›"
        elif kind == "BODY":
            body = PLACEHOLDER.sub(fill, str(component.get("text", "")))
        elif kind == "FOOTER":
            text = component.get("text")
            footer = str(text) if text is not None else None
        elif kind == "BUTTONS":
            buttons.extend(_button_labels(component))
    for n in range(1, template.body_params + 1):
        if n > len(params) or not params[n - 1].strip():
            missing.add(n)
    return RenderedTemplate(
        name=template.name,
        header=header,
        body=body,
        footer=footer,
        buttons=tuple(buttons),
        missing=tuple(sorted(missing)),
        values=tuple(params),
    )


def _button_labels(component: Mapping[str, object]) -> list[str]:
    raw = component.get("buttons")
    if not isinstance(raw, list):
        return []
    labels: list[str] = []
    for button in raw:
        if isinstance(button, Mapping):
            label = button.get("text") or button.get("type") or "button"
            labels.append(str(label))
    return labels


def parameter_refusal(template: Template, params: Sequence[str]) -> Refusal | None:
    """Why ``params`` cannot be sent with ``template``, or ``None``.

    Every body placeholder needs a value that is not blank: a blank one would go out as
    a message the operator never read (and Meta refuses a missing parameter, 132000).

    Args:
        template: The template.
        params: Body parameter values, in order.

    Returns:
        The refusal (wrong count, or the first blank placeholder), or ``None``.
    """
    if len(params) != template.body_params:
        return Refusal(
            "template_params_count",
            f"template {template.name} takes {template.body_params} parameter(s), "
            f"got {len(params)}",
            132000,
        )
    for n, value in enumerate(params, start=1):
        if not value.strip():
            return Refusal(
                "template_param_empty",
                f"parameter {{{{{n}}}}} of template {template.name} is empty: fill it in",
                132000,
            )
    return None
