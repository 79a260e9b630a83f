"""Full-text search across every group's messages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Final

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from groups_tui.domain.text import one_line
from groups_tui.service.types import SearchHit
from groups_tui.ui.formatting import stamp
from groups_tui.ui.screen_roles import Ticking
from groups_tui.ui.screens._base import AppScreen
from groups_tui.ui.widgets.key_bar import KeyBar
from groups_tui.ui.widgets.safe_text import fit, safe
from groups_tui.ui.widgets.status_header import StatusHeader

__all__ = ["SearchScreen", "snippet_text"]

_SNIPPET_CELLS: Final = 500


def snippet_text(snippet: str, spans: Sequence[tuple[int, int]]) -> Text:
    """A search snippet with its matches highlighted by offset.

    The snippet is untrusted plain text: it is never parsed, for markup or for marks, so
    a message's own ``[``/``]`` (or any other character) is shown as it is. Each piece is
    made visible and kept on one line; the pieces at `spans` are styled.

    Args:
        snippet: The snippet's plain text.
        spans: ``(start, end)`` offsets of the matches in it, in order.

    Returns:
        One line of text.
    """
    text = Text(no_wrap=True, overflow="ellipsis", end="")
    done = 0
    for start, end in spans:
        if start < done or end <= start:
            continue
        text.append(one_line(snippet[done:start]))
        text.append(one_line(snippet[start:end]), style="bold reverse")
        done = end
    text.append(one_line(snippet[done:]))
    text.truncate(_SNIPPET_CELLS, overflow="ellipsis")
    return text


class SearchScreen(AppScreen, Ticking):
    """Type a query, pick a hit, and jump to the message in its conversation.

    The query runs in a worker as you type (an exclusive worker, so only the latest
    query's results are shown); Enter on a hit opens its group at that message.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="search.back", tooltip="Back to where you were"),
        Binding("down", "to_results", "Results", show=False, id="search.results"),
    ]
    """Search keys."""

    def __init__(self) -> None:
        """Create an empty search."""
        super().__init__()
        self.hits: list[SearchHit] = []
        self.query_text = ""

    def compose(self) -> ComposeResult:
        """Header, query box, hits and footer."""
        yield StatusHeader()
        yield Input(placeholder="search all messages (Enter: first hit, ↓: results)", id="query")
        yield Static("", id="search-status")
        yield OptionList(id="hits")
        yield KeyBar()

    def on_mount(self) -> None:
        """Focus the query box."""
        self.app.apply_header(self.query_one(StatusHeader))
        self.query_one("#query", Input).focus()

    def tick(self, now: float) -> None:
        """Advance the header's clock."""
        self.query_one(StatusHeader).tick(now)

    @on(Input.Changed, "#query")
    def _changed(self, event: Input.Changed) -> None:
        self.query_text = event.value
        self._search(event.value)

    @on(Input.Submitted, "#query")
    def _submitted(self) -> None:
        if self.hits:
            self._open(self.hits[0])

    @work(exclusive=True, group="search", exit_on_error=False)
    async def _search(self, query: str) -> None:
        hits = await self.app.service.reading.search(query) if query.strip() else []
        if query != self.query_text:
            return
        self.hits = hits
        options = self.query_one("#hits", OptionList)
        options.clear_options()
        now = self.app.now()
        for index, hit in enumerate(hits):
            head = Text(no_wrap=True, overflow="ellipsis", end="")
            head.append(stamp(hit.at, now) + " ")
            head.append_text(safe(fit(hit.subject or hit.group_id, 40), "bold"))
            if hit.sender_name:
                head.append(" · ").append_text(safe(fit(hit.sender_name, 30)))
            options.add_option(
                Option(Text("\n").join([head, snippet_text(hit.snippet, hit.spans)]), id=str(index))
            )
        status = f"{len(hits)} hit(s)" if query.strip() else ""
        self.query_one("#search-status", Static).update(Text(status))

    @on(OptionList.OptionSelected, "#hits")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None:
            self._open(self.hits[int(event.option.id)])

    def _open(self, hit: SearchHit) -> None:
        self.app.navigation.open_group(hit.group_id, hit.message_id, hit.at)

    def action_to_results(self) -> None:
        """Move from the query box to the hits, the first one highlighted (Enter opens it)."""
        hits = self.query_one("#hits", OptionList)
        if hits.highlighted is None and hits.option_count:
            hits.highlighted = 0
        self.set_focus(hits)

    def action_back(self) -> None:
        """Close the search."""
        self.dismiss()
