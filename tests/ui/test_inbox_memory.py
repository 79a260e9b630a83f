"""What the inbox list holds per group: compact rows, records only for the rows drawn."""

from __future__ import annotations

from textual.scroll_view import ScrollView

from groups_tui.service.types import InboxRow
from groups_tui.ui.app import GroupsApp
from groups_tui.ui.widgets.group_list import GroupList
from tests.ui.conftest import settle

GROUPS = 30
"""Groups in the seeded world."""


def _held(group_list: GroupList) -> list[object]:
    """Every object the list's own attributes reach through containers and the
    project's plain objects (not Textual's attributes, widgets or styles)."""
    textual_own = set(vars(ScrollView()))
    stack = [v for k, v in vars(group_list).items() if k not in textual_own]
    seen: set[int] = set()
    out: list[object] = []
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        out.append(obj)
        if isinstance(obj, dict):
            stack += [*obj.keys(), *obj.values()]
        elif isinstance(obj, (list, tuple, set, frozenset)):
            stack += list(obj)
        elif type(obj).__module__.startswith("groups_tui.") and hasattr(obj, "__dict__"):
            stack += list(vars(obj).values())
    return out


async def test_the_list_holds_records_and_texts_only_for_the_rows_drawn(app: GroupsApp) -> None:
    async with app.run_test(size=(100, 24)) as pilot:
        await settle(pilot)
        group_list = app.screen.query_one(GroupList)
        drawn = group_list.scrollable_content_region.height
        # GIVEN more groups than the list has lines, every one of them loaded and shown
        assert group_list.total == len(group_list.shown) == GROUPS > drawn
        subjects = {row.subject for row in app.inbox_rows_snapshot()}
        assert len(subjects) == GROUPS
        held = _held(group_list)
        # THEN it keeps a record only for the rows it has drawn, and the subjects of the
        # others are no strings of their own either (they are read when drawn)
        records = [obj for obj in held if isinstance(obj, InboxRow)]
        assert 0 < len(records) <= drawn
        texts = [obj for obj in held if isinstance(obj, str) and obj in subjects]
        assert 0 < len(texts) <= drawn
        # AND once scrolled to the end, the rows drawn there are the ones it can show
        group_list.action_last()
        await pilot.pause()
        assert group_list.highlighted is not None
        shown = group_list.highlighted.subject
        assert shown in {obj for obj in _held(group_list) if isinstance(obj, str)}
