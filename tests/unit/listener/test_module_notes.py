"""What the listener's module notes say about ordering matches what the code does."""

from __future__ import annotations

import groups_tui.listener.app
import groups_tui.listener.ingest


def test_the_app_note_says_applying_happens_in_the_same_commit_before_the_200() -> None:
    # The writer logs and applies a body in ONE transaction, then releases the handler.
    ingest = groups_tui.listener.ingest.__doc__ or ""
    assert "applied to state in ONE transaction" in ingest
    note = " ".join((groups_tui.listener.app.__doc__ or "").split())
    assert "after the 200" not in note
    assert "Applying to state happens in that same commit" in note
