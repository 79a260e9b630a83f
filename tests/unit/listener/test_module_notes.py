"""What the listener's module notes say about ordering matches what the code does."""

from __future__ import annotations

import groups_tui.listener.app
import groups_tui.listener.ingest


def test_the_notes_say_applying_happens_after_the_200_and_survives_a_crash() -> None:
    # The writer logs a body durably, releases the handler, then applies it; a body
    # logged but not applied is applied at the next start.
    ingest = " ".join((groups_tui.listener.ingest.__doc__ or "").split())
    assert "Applying to state comes after the 200" in ingest
    assert "applied when the writer starts" in ingest
    note = " ".join((groups_tui.listener.app.__doc__ or "").split())
    assert "Applying to state happens after the 200" in note
    assert "applied at the next start" in note
