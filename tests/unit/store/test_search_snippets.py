"""Search snippets are plain text with match offsets: no in-band marker can be forged."""

from __future__ import annotations

import random

import pytest

from groups_tui.store import Store
from groups_tui.store.fts import DEFAULT_MARKS, SnippetMarks, marks_absent_from, split_snippet

from .conftest import created, inbound


def marked(hit_snippet: str, spans: tuple[tuple[int, int], ...]) -> list[str]:
    return [hit_snippet[a:b] for a, b in spans]


def is_excerpt(snippet: str, text: str) -> bool:
    """`snippet` is a piece of `text`, with "…" exactly where text was left out."""
    for head in ("", "…"):
        for tail in ("", "…"):
            if len(snippet) < len(head) + len(tail):
                continue
            if not (snippet.startswith(head) and snippet.endswith(tail)):
                continue
            core = snippet[len(head) : len(snippet) - len(tail)]
            if core not in text:
                continue
            if (head or text.startswith(core)) and (tail or text.endswith(core)):
                return True
    return False


async def test_a_messages_own_brackets_are_kept_and_the_match_comes_from_offsets(
    store: Store,
) -> None:
    # GIVEN a message that looks like markup and like the old [match] marks
    await store.raw.apply_events(None, [created(), inbound("w1", 1000, text="M0 [bold]x[/] tail")])
    # WHEN it is found
    (hit,) = await store.messages.search("tail")
    # THEN the snippet is the text exactly, and only "tail" is a match
    assert hit.snippet == "M0 [bold]x[/] tail"
    assert hit.spans == ((14, 18),)
    (hit,) = await store.messages.search("bold")
    assert hit.snippet == "M0 [bold]x[/] tail"
    assert marked(hit.snippet, hit.spans) == ["bold"]


@pytest.mark.parametrize(
    "text",
    [
        "a\x02b\x03 gate \x1e end",  # every default mark
        "\x02gate\x03",  # marks around the match itself
        "x\x1e gate",
    ],
)
async def test_a_text_holding_the_marks_is_shown_exactly_and_highlighted(
    store: Store, text: str
) -> None:
    await store.raw.apply_events(None, [created(), inbound("w1", 1000, text=text)])
    (hit,) = await store.messages.search("gate")
    assert hit.snippet == text
    assert marked(hit.snippet, hit.spans) == ["gate"]


async def test_accents_case_and_ellipsis(store: Store) -> None:
    long = " ".join(f"w{i}" for i in range(40)) + " Café " + " ".join(f"v{i}" for i in range(40))
    await store.raw.apply_events(None, [created(), inbound("w1", 1000, text=long)])
    (hit,) = await store.messages.search("cafe")
    assert marked(hit.snippet, hit.spans) == ["Café"]
    assert hit.snippet.startswith("…") and hit.snippet.endswith("…")
    assert is_excerpt(hit.snippet, long)


async def test_random_texts_full_of_marks_give_exact_snippets(store: Store) -> None:
    seed = random.randrange(2**32)
    print(f"seed {seed}")
    rng = random.Random(seed)
    alphabet = ["a", "B", "é", " ", " ", "[", "]", "…", "\x02", "\x03", "\x1e", "\ue000", "\n"]
    texts: dict[str, str] = {}
    events = [created()]
    for i in range(120):
        junk = ["".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 12))) for _ in "ab"]
        text = f"{junk[0]} q{i}x {junk[1]}"
        texts[f"w{i}"] = text
        events.append(inbound(f"w{i}", 1000 + i, text=text))
    await store.raw.apply_events(None, events)
    for message_id, text in texts.items():
        needle = f"q{message_id[1:]}x"
        hits = [h for h in await store.messages.search(needle) if h.message_id == message_id]
        assert len(hits) == 1, (seed, text)
        hit = hits[0]
        # every match starts with the word searched, and the snippet is the text's own
        assert [m[: len(needle)] for m in marked(hit.snippet, hit.spans)] == [needle], (seed, text)
        assert is_excerpt(hit.snippet, text), (seed, text, hit.snippet)


def test_split_snippet_and_mark_choice() -> None:
    assert split_snippet("\x1eab \x02cd\x03 e\x1e", DEFAULT_MARKS) == ("…ab cd e…", ((4, 6),))
    assert split_snippet("\x02\x03x", DEFAULT_MARKS) == ("x", ())  # empty match: no span
    marks = marks_absent_from("\x01\x02\x03\x04 text")
    assert marks == SnippetMarks("\x05", "\x06", "\x07")
    assert not marks.occur_in("\x01\x02\x03\x04 text")


async def test_a_common_word_makes_snippets_only_for_the_hits_kept(store: Store) -> None:
    # GIVEN 120 messages holding the same word, in insertion order unlike time order
    texts = [f"chess night {i}" for i in range(120)]
    await store.raw.apply_events(
        None,
        [created(), *(inbound(f"w{i}", 1000 + (i * 7) % 120, text=t) for i, t in enumerate(texts))],
    )
    expected = sorted(((1000 + (i * 7) % 120, f"w{i}") for i in range(120)), reverse=True)
    statements: list[str] = []
    await store.db.execute_fn(lambda conn: conn.set_trace_callback(statements.append))
    # WHEN the first page of 10 hits is searched (the word as typed: a prefix)
    hits = await store.messages.search("ches", limit=10)
    await store.db.execute_fn(lambda conn: conn.set_trace_callback(None))
    # THEN the hits are the newest ten, each with its snippet
    assert [(h.at, h.message_id) for h in hits] == expected[:10]
    assert all(marked(h.snippet, h.spans) == ["chess"] for h in hits)
    # AND the text of only those ten was read for a snippet (FTS5 reads the content
    # table once per snippet made), not of all 120 matches
    snippet_reads = [s for s in statements if "FROM 'main'.'messages' T WHERE" in s]
    assert len(snippet_reads) == 10, statements
    # AND the next page follows on
    more = await store.messages.search("ches", limit=10, after=(hits[-1].at, hits[-1].message_id))
    assert [(h.at, h.message_id) for h in more] == expected[10:20]
