"""The floor of ``bench/ui.py``'s inbox start: the least an inbox of every group can do.

A thread begins the one SQLite read of every group (in the inbox's order, the columns a
row shows) before Textual is imported; the app draws an Input, a counter and the visible
rows through Textual's line API, and the counter says ``N/N`` once every row is read.
Nothing else: no settings, no service, no styles, no workers. Its start, paired with the
empty app's, is how close to the empty app any inbox built on Textual and this database
could start on this machine.

Usage: ``python bench/floor_app.py DB``
"""

import sqlite3
import sys
import threading

ACTIVITY = (
    "max(coalesce(g.last_activity_at, 0), coalesce(g.last_msg_at, 0), coalesce(g.created_at, 0))"
)
ROWS_SQL = (
    "SELECT g.subject, g.member_count, g.unread, g.last_msg_preview FROM groups g "
    f"ORDER BY {ACTIVITY} DESC, g.pk DESC"
)
rows: list[tuple[str, int, int, str | None]] = []


def read_rows() -> None:
    conn = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
    rows.extend(conn.execute(ROWS_SQL).fetchall())
    conn.close()


reader = threading.Thread(target=read_rows)
reader.start()

from rich.segment import Segment  # noqa: E402
from textual.app import App, ComposeResult  # noqa: E402
from textual.strip import Strip  # noqa: E402
from textual.widget import Widget  # noqa: E402
from textual.widgets import Input, Static  # noqa: E402


class Rows(Widget):
    """The visible rows, one line each (no widget per row)."""

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y >= len(rows):
            return Strip.blank(width)
        subject, members, unread, preview = rows[y]
        return Strip([Segment(f"{subject:<36} {members}/8 {unread:>4}  {preview or ''}"[:width])])


class Floor(App[None]):
    CSS = "Rows { height: 1fr; }"

    def compose(self) -> ComposeResult:
        yield Input(placeholder="filter")
        yield Static("loading", id="count")
        yield Rows()

    def on_mount(self) -> None:
        self.run_worker(self.wait_for_rows, thread=True)

    def wait_for_rows(self) -> None:
        reader.join()
        self.call_from_thread(self.show_rows)

    def show_rows(self) -> None:
        self.query_one("#count", Static).update(f"{len(rows):,}/{len(rows):,}")
        self.query_one(Rows).refresh()


if __name__ == "__main__":
    Floor().run()
