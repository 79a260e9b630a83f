"""Message templates of the simulated WABA, and the checks of a template send.

``GET /{waba_id}/message_templates`` lists them (reference 2.13); a send names one by name
and language and must give as many body parameters as it takes (132000), and a header
when it has one. Paused or rejected templates cannot be sent (132015).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from groups_tui.domain.models import TemplateCategory

from .errors import GraphError
from .params import encode_cursor
from .state import Json

__all__ = ["TemplateDef", "Templates", "default_templates"]


@dataclass(frozen=True)
class TemplateDef:
    """An approved (or not) message template of the WABA."""

    id: str
    name: str
    language: str
    category: TemplateCategory
    status: str
    components: tuple[Mapping[str, Any], ...]
    body_params: int
    header_format: str | None = None

    def as_json(self) -> Json:
        """Shape of ``GET /{waba}/message_templates`` items."""
        return {
            "name": self.name,
            "parameter_format": "POSITIONAL",
            "components": [dict(c) for c in self.components],
            "language": self.language,
            "status": self.status,
            "category": self.category.value.upper(),
            "id": self.id,
        }


def default_templates() -> list[TemplateDef]:
    """The templates every sandbox WABA starts with."""

    def body(text: str) -> Mapping[str, Any]:
        return {"type": "BODY", "text": text}

    return [
        TemplateDef(
            "771001",
            "weekly_offers",
            "en_US",
            TemplateCategory.MARKETING,
            "APPROVED",
            (body("This week only: {{1}} off everything in store!"),),
            1,
        ),
        TemplateDef(
            "771002",
            "delivery_update_group",
            "en_US",
            TemplateCategory.UTILITY,
            "APPROVED",
            (body("Order {{1}} arrives at {{2}}."),),
            2,
        ),
        TemplateDef(
            "771003",
            "invoice_ready",
            "en_US",
            TemplateCategory.UTILITY,
            "APPROVED",
            (
                {"type": "HEADER", "format": "DOCUMENT"},
                body("Your invoice {{1}} is attached."),
            ),
            1,
            "DOCUMENT",
        ),
        TemplateDef(
            "771004",
            "event_reminder",
            "es",
            TemplateCategory.UTILITY,
            "APPROVED",
            (
                {"type": "HEADER", "format": "IMAGE"},
                body("Recordatorio: {{1}} empieza a las {{2}}."),
            ),
            2,
            "IMAGE",
        ),
        TemplateDef(
            "771005",
            "group_invite_upon_request",
            "en",
            TemplateCategory.UTILITY,
            "APPROVED",
            (body("Here is the link to join the group you asked about."),),
            0,
        ),
        TemplateDef(
            "771006",
            "login_code",
            "en_US",
            TemplateCategory.AUTHENTICATION,
            "APPROVED",
            (body("{{1}} is your verification code."),),
            1,
        ),
        TemplateDef(
            "771007",
            "summer_sale_2025",
            "en_US",
            TemplateCategory.MARKETING,
            "PAUSED",
            (body("Summer sale: {{1}}"),),
            1,
        ),
    ]


class Templates:
    """The WABA's templates.

    Args:
        business_account_id: The WABA id (the only node that has templates).
        defs: The templates; :func:`default_templates` when omitted.

    Attributes:
        defs: The templates, in listing order (tests may add or replace some).
    """

    def __init__(self, business_account_id: str, defs: list[TemplateDef] | None = None) -> None:
        self._waba = business_account_id
        self.defs: list[TemplateDef] = default_templates() if defs is None else defs

    def find(self, name: str, language: str) -> TemplateDef:
        """Find a template by name and language.

        Raises:
            GraphError: 132001 if there is none.
        """
        for tpl in self.defs:
            if tpl.name == name and tpl.language == language:
                return tpl
        raise GraphError(132001, f"template name ({name}) does not exist in {language}", status=404)

    def check_send(self, raw: Any) -> TemplateDef:
        """The template a send's ``template`` object names, once it passes Meta's checks.

        Raises:
            GraphError: 131008 (missing name or language), 132001 (unknown), 132015 (not
                approved), 132000 (wrong number of body parameters, missing header).
        """
        if not isinstance(raw, Mapping):
            raise GraphError(131008, "The parameter template is required.")
        name = raw.get("name")
        language = raw.get("language")
        code = language.get("code") if isinstance(language, Mapping) else None
        if not isinstance(name, str) or not isinstance(code, str):
            raise GraphError(131008, "template.name and template.language.code are required.")
        tpl = self.find(name, code)
        if tpl.status != "APPROVED":
            raise GraphError(132015, f"Template {name} is {tpl.status.lower()}.")
        params = 0
        header_given = False
        for comp in raw.get("components") or []:
            if not isinstance(comp, Mapping):
                continue
            if comp.get("type") == "body":
                given = [p for p in comp.get("parameters") or [] if isinstance(p, Mapping)]
                for param in given:
                    # The reference documents text parameters with a value; what Meta does
                    # with an empty one is not stated, so only the documented shape (a
                    # non-blank text) is accepted, refused as a missing parameter.
                    if param.get("type") == "text" and not str(param.get("text") or "").strip():
                        raise GraphError(131008, "Parameter of type text is missing text value.")
                params += len(given)
            if comp.get("type") == "header":
                header_given = True
        if tpl.name == "group_invite_upon_request":
            return tpl
        if params != tpl.body_params:
            raise GraphError(
                132000,
                f"Template {name} expects {tpl.body_params} body parameters, got {params}.",
            )
        if tpl.header_format is not None and not header_given:
            raise GraphError(132000, f"Template {name} needs a {tpl.header_format} header.")
        return tpl

    def list_templates(
        self, waba_id: str, name: str | None, limit: str | None, status: str | None = None
    ) -> Json:
        """``GET /{waba_id}/message_templates`` (filtered by ``name`` and ``status``)."""
        if waba_id != self._waba:
            raise GraphError(
                100,
                f"Unsupported get request. Object with ID '{waba_id}' does not exist.",
                subcode=33,
            )
        items = [
            t.as_json()
            for t in self.defs
            if (name is None or t.name == name)
            and (status is None or t.as_json().get("status") == status.upper())
        ]
        try:
            size = 25 if limit is None else max(1, int(limit))
        except ValueError:
            raise GraphError(100, "Param limit must be an integer.") from None
        return {
            "data": items[:size],
            "paging": {
                "cursors": {"before": encode_cursor(0), "after": encode_cursor(len(items[:size]))}
            },
        }
