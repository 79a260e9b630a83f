"""A template rendered with its parameters: what is shown, stored and checked before sending."""

from __future__ import annotations

from groups_tui.domain.models import Template, TemplateCategory
from groups_tui.domain.templates import (
    parameter_refusal,
    placeholder_count,
    render_template,
)

SHIPPING = Template(
    name="shipping_update",
    language="en_US",
    category=TemplateCategory.UTILITY,
    body_params=2,
    header_format="TEXT",
    components=(
        {"type": "HEADER", "format": "TEXT", "text": "Your order"},
        {"type": "BODY", "text": "Order {{1}} arrives at {{2}}. Track {{1}} online."},
        {"type": "FOOTER", "text": "Reply STOP to opt out"},
        {
            "type": "BUTTONS",
            "buttons": [
                {"type": "URL", "text": "Track order", "url": "https://example.com/{{1}}"},
                {"type": "QUICK_REPLY", "text": "Call me"},
            ],
        },
    ),
)


def test_header_body_footer_and_buttons_are_rendered_with_the_parameters() -> None:
    rendered = render_template(SHIPPING, ["1042", "15:00"])
    assert rendered.header == "Your order"
    assert rendered.body == "Order 1042 arrives at 15:00. Track 1042 online."
    assert rendered.footer == "Reply STOP to opt out"
    assert rendered.buttons == ("Track order", "Call me")
    assert rendered.missing == ()
    assert rendered.text == rendered.body


def test_a_blank_or_missing_parameter_stays_a_placeholder_and_is_listed() -> None:
    rendered = render_template(SHIPPING, ["1042", "  "])
    assert rendered.body == "Order 1042 arrives at {{2}}. Track 1042 online."
    assert rendered.missing == (2,)
    assert render_template(SHIPPING, []).missing == (1, 2)


def test_a_media_header_is_named_and_a_body_less_template_keeps_its_name() -> None:
    invoice = Template(
        "invoice_ready",
        "en_US",
        TemplateCategory.UTILITY,
        components=({"type": "HEADER", "format": "DOCUMENT"},),
    )
    rendered = render_template(invoice, [])
    assert rendered.header == "‹document›"
    assert rendered.text == "[template invoice_ready]"


def test_values_are_inserted_literally() -> None:
    # A value that looks like a placeholder or markup is text, not a second substitution.
    rendered = render_template(SHIPPING, ["{{2}}", "[b]x[/b]"])
    assert rendered.body == "Order {{2}} arrives at [b]x[/b]. Track {{2}} online."


def test_parameters_must_match_the_count_and_none_may_be_blank() -> None:
    assert parameter_refusal(SHIPPING, ["1042", "15:00"]) is None
    count = parameter_refusal(SHIPPING, ["1042"])
    assert count is not None and count.code == "template_params_count"
    blank = parameter_refusal(SHIPPING, ["1042", " \t"])
    assert blank is not None and blank.code == "template_param_empty"
    assert "{{2}}" in blank.reason


def test_placeholders_are_counted_once_each() -> None:
    assert placeholder_count("Order {{1}} arrives at {{ 2 }}. Track {{1}}.") == 2
    assert placeholder_count("No parameters") == 0
