"""Business numbers: the record, and choosing one by label or id."""

from __future__ import annotations

import pytest

from groups_tui.domain.numbers import BusinessNumber, NumberChoiceError, choose_number, label_of

US = BusinessNumber("100000000000001", "US", display_phone_number="+1 555 010 0000")
BR = BusinessNumber("100000000000002", "BR")


def test_the_only_number_is_the_default() -> None:
    assert choose_number([US], None) is US


def test_several_numbers_and_none_named_names_the_choices() -> None:
    with pytest.raises(NumberChoiceError) as caught:
        choose_number([US, BR], None)
    message = str(caught.value)
    assert "--number" in message
    assert "US (100000000000001)" in message and "BR (100000000000002)" in message


def test_a_number_is_named_by_label_in_any_case_or_by_id() -> None:
    assert choose_number([US, BR], "br") is BR
    assert choose_number([US, BR], "100000000000001") is US
    with pytest.raises(NumberChoiceError, match="no number 'DE'"):
        choose_number([US, BR], "DE")


def test_a_number_needs_an_id_and_a_label() -> None:
    with pytest.raises(ValueError):
        BusinessNumber(" ", "x")
    with pytest.raises(ValueError):
        BusinessNumber("1", "")
    assert US.title == "US (+1 555 010 0000)"
    assert BR.title == "BR"
    assert label_of([US, BR], BR.phone_number_id) == "BR"
    assert label_of([US], "999") == "999"
