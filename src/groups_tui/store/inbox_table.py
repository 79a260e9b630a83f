"""The inbox's rows held compactly, as the store reads them and the inbox list keeps them.

50,000 groups as :class:`~groups_tui.service.types.InboxRow` tuples cost ~800 B each: a
19-slot tuple, two int objects and six str objects, each with its own header. The table
keeps per row what sorting, filtering and counting read in typed arrays (the times, the
counts, the flags, the state and the number as codes into the short list of values
met), the filter's haystack as the str the filter reads (``text in haystack`` is the
fastest test Python has), and every other text of the row in ONE UTF-8 ``bytes``
object: the group id, the subject, the last message and the rest, separated by NUL (a
bit each says which texts were ``None``). An :class:`InboxRow` is built again only for
the rows drawn or asked for (:meth:`RowTable.row`).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import compress, repeat
from operator import contains, getitem
from typing import Any, overload

from groups_tui.store.records import InboxRow

__all__ = ["FIELD_GROUPS", "NO_TIME", "RowTable", "RowsView"]

_TEXTS = ("group_id", "subject", "last_sender", "last_text", "last_inbound_by", "request_id", "tag")
"""Text fields, in their order in a row's bytes."""
_COUNTS = {"participant_count": "B", "unread": "I", "pending_requests": "H", "open_flags": "H"}
"""Counts and the array type that holds their usual values (a column takes 64 bits once
a value does not fit: :meth:`RowTable._count`)."""
_TIMES = ("last_activity_at", "last_inbound_at")
_FLAGS = ("suspended", "flagged", "last_outbound")
_SHARED = ("state", "phone_number_id")
"""Fields whose few values thousands of rows share: kept as a code into :attr:`values`."""
FIELD_GROUPS = (("haystack",), _TEXTS, tuple(_COUNTS), _TIMES, _FLAGS, _SHARED)
"""Where each of :class:`InboxRow`'s fields is kept (every field exactly once)."""

_SEP = "\x00"
"""Between the texts of a row. A row whose texts hold it (or a lone surrogate, which no
text read from SQLite holds) is kept the odd way: :data:`_ODD_SEP` between texts encoded
with ``surrogatepass``, and :data:`_ODD` set in its ``nulls``."""
_ODD_SEP = b"\xff"
"""A byte no UTF-8 text holds, not even with ``surrogatepass``."""
_ODD = 0x80
"""Bit of a row's ``nulls``: its texts are kept the odd way."""
NO_TIME = -(2**63)
"""A time that is ``None``."""
_CHUNK = 2_000
"""Rows converted at a time (what is built on the way stays small)."""


def _odd_pack(parts: Iterable[str]) -> bytes:
    return _ODD_SEP.join(p.encode("utf-8", "surrogatepass") for p in parts)


def _plain(text: str, packs: list[bytes], i: int) -> bool:
    """Whether row ``i``'s ``text`` (its texts joined) can be kept the plain way; if so,
    ``packs[i]`` is set to it."""
    if text.count(_SEP) != len(_TEXTS) - 1:
        return False
    try:
        packs[i] = text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _add(columns: dict[str, array[int]], name: str, values: Sequence[int]) -> None:
    """Add ``values`` to ``columns[name]``; an unusual value (one its array type does not
    hold) makes the column 64 bits wide from then on."""
    numbers = columns[name]
    size = len(numbers)
    try:
        if isinstance(values, array) and values.typecode == numbers.typecode:
            numbers += values
        else:
            numbers.fromlist(list(values))
    except OverflowError:
        del numbers[size:]
        columns[name] = array("q", [*numbers, *values])


def _put(columns: dict[str, array[int]], name: str, i: int, value: int) -> None:
    """Set ``columns[name][i]`` (widened as :func:`_add` does)."""
    try:
        columns[name][i] = value
    except OverflowError:
        columns[name] = array("q", columns[name])
        columns[name][i] = value


class RowTable:
    """Every inbox row, in load order: a few dozen bytes of arrays, its haystack and
    one ``bytes`` each.

    Rows are addressed by their index (load order); :meth:`row` builds a row's
    :class:`InboxRow` again, equal to the one added.
    """

    def __init__(self) -> None:
        self.hays: list[str] = []
        """Each row's filter haystack."""
        self.packs: list[bytes] = []
        """Each row's other texts (see the module's docstring)."""
        self.nulls = array("B")
        """Bit ``k`` of a row's byte: :data:`_TEXTS` ``[k]`` is ``None``; and :data:`_ODD`."""
        self.counts = {name: array(code) for name, code in _COUNTS.items()}
        self.times = {name: array("q") for name in _TIMES}
        self.flags = array("B")
        """Bit ``k`` of a row's byte: :data:`_FLAGS` ``[k]``."""
        self.codes = {name: array("H") for name in _SHARED}
        self.values: dict[str, list[str]] = {name: [] for name in _SHARED}
        """The values of each shared field met so far (a row keeps its value's index)."""
        self._code_of: dict[str, dict[str, int]] = {name: {} for name in _SHARED}
        """Each value's index in :attr:`values`."""
        self.odd = 0
        """Rows kept the odd way (see :data:`_SEP`)."""
        self._index: dict[str, int] | None = None
        """Every row's index by group id, while :meth:`positions` holds it."""

    def __len__(self) -> int:
        return len(self.packs)

    # ------------------------------------------------------------------ writing

    def _code(self, name: str, value: str) -> int:
        codes = self._code_of[name]
        code = codes.get(value)
        if code is None:
            code = codes[value] = len(self.values[name])
            self.values[name].append(value)
        return code

    def _count(self, name: str, values: Sequence[int]) -> None:
        _add(self.counts, name, values)

    def extend(self, rows: Sequence[InboxRow]) -> None:
        """Add ``rows`` after the others."""
        for start in range(0, len(rows), _CHUNK):
            chunk = rows[start : start + _CHUNK]
            self.extend_columns(dict(zip(InboxRow._fields, zip(*chunk, strict=True), strict=True)))

    def extend_columns(self, columns: Mapping[str, Sequence[Any]]) -> None:
        """Add rows given column by column (every field of :class:`InboxRow`, by name)."""
        size = len(columns["group_id"])
        if not size:
            return
        texts: list[Sequence[str]] = []
        nulls = [0] * size
        for k, name in enumerate(_TEXTS):
            column: Sequence[str | None] = columns[name]
            if None in column:
                nulls = [n | (v is None) << k for n, v in zip(nulls, column, strict=True)]
                column = ["" if v is None else v for v in column]
            texts.append(column)  # type: ignore[arg-type]  # no None is left
        joined = list(map(_SEP.join, zip(*texts, strict=True)))
        try:
            packs = [text.encode() for text in joined]
            odd: list[int] = []
        except UnicodeEncodeError:
            odd = list(range(size))  # each row checked on its own below
        if odd or b"".join(packs).count(0) != (len(_TEXTS) - 1) * size:
            packs = [_odd_pack(t[i] for t in texts) for i in range(size)]
            odd = [i for i, text in enumerate(joined) if not _plain(text, packs, i)]
        for i in odd:
            nulls[i] |= _ODD
        self.odd += len(odd)
        if self._index is not None:
            added = range(len(self.packs), len(self.packs) + size)
            self._index.update(zip(columns["group_id"], added, strict=True))
        self.hays += columns["haystack"]
        self.packs += packs
        self.nulls.extend(nulls)
        for name in _COUNTS:
            self._count(name, columns[name])
        for name in _TIMES:
            self.times[name].fromlist([NO_TIME if t is None else t for t in columns[name]])
        flags = zip(*(columns[name] for name in _FLAGS), strict=True)
        self.flags.fromlist([bool(s) | bool(f) << 1 | bool(o) << 2 for s, f, o in flags])
        for name in _SHARED:
            shared: Sequence[str] = columns[name]
            found = {value: self._code(name, value) for value in set(shared)}
            _add(self.codes, name, list(map(found.__getitem__, shared)))

    def append(self, other: RowTable, ids: Sequence[str] | None = None) -> None:
        """Add the rows of ``other`` after these (``ids``: its :meth:`ids`, if known)."""
        if self._index is not None:
            added = range(len(self.packs), len(self.packs) + len(other))
            self._index.update(zip(other.ids() if ids is None else ids, added, strict=True))
        self.hays += other.hays
        self.packs += other.packs
        self.nulls += other.nulls
        self.odd += other.odd
        for name, numbers in other.counts.items():
            self._count(name, numbers)
        for name, times in other.times.items():
            self.times[name] += times
        self.flags += other.flags
        for name, codes in other.codes.items():
            remap = [self._code(name, value) for value in other.values[name]]
            identity = remap == list(range(len(remap)))
            _add(self.codes, name, codes if identity else list(map(remap.__getitem__, codes)))

    def ids(self) -> list[str]:
        """Every row's group id, in order (sliced out of its bytes without a Python loop)."""
        packs = self.packs
        if self.odd:
            return [self.group_id(i) for i in range(len(packs))]
        stops = map(slice, map(bytes.find, packs, repeat(_SEP.encode())))
        return list(map(bytes.decode, map(getitem, packs, stops)))  # type: ignore[arg-type]

    def set(self, i: int, row: InboxRow) -> None:
        """Replace row ``i`` with ``row``."""
        other = RowTable()
        other.extend([row])
        self.odd += bool(other.odd) - bool(self.nulls[i] & _ODD)
        self.hays[i] = other.hays[0]
        self.packs[i] = other.packs[0]
        self.nulls[i] = other.nulls[0]
        for name in _COUNTS:
            _put(self.counts, name, i, other.counts[name][0])
        for name in _TIMES:
            self.times[name][i] = other.times[name][0]
        self.flags[i] = other.flags[0]
        for name in _SHARED:
            _put(self.codes, name, i, self._code(name, other.values[name][0]))

    def keep(self, kept: Sequence[int]) -> RowTable:
        """A table of rows ``kept`` alone (in that order)."""
        out = RowTable()
        out.values = {name: list(v) for name, v in self.values.items()}
        out._code_of = {name: dict(codes) for name, codes in self._code_of.items()}
        out.hays = [self.hays[i] for i in kept]
        out.packs = [self.packs[i] for i in kept]
        out.nulls = array("B", [self.nulls[i] for i in kept])
        out.odd = sum(n & _ODD for n in out.nulls) // _ODD if self.odd else 0
        out.counts = {n: array(c.typecode, [c[i] for i in kept]) for n, c in self.counts.items()}
        out.times = {n: array("q", [t[i] for i in kept]) for n, t in self.times.items()}
        out.flags = array("B", [self.flags[i] for i in kept])
        out.codes = {n: array(c.typecode, [c[i] for i in kept]) for n, c in self.codes.items()}
        return out

    # ------------------------------------------------------------------ reading

    def row(self, i: int) -> InboxRow:
        """Row ``i`` as the record it was added as."""
        nulls = self.nulls[i]
        sep, errors = (_ODD_SEP, "surrogatepass") if nulls & _ODD else (b"\x00", "strict")
        texts = self.packs[i].split(sep)
        values: dict[str, object] = {"haystack": self.hays[i]}
        for k, (name, text) in enumerate(zip(_TEXTS, texts, strict=True)):
            values[name] = None if nulls >> k & 1 else text.decode("utf-8", errors)
        for name in _COUNTS:
            values[name] = self.counts[name][i]
        for name in _TIMES:
            t = self.times[name][i]
            values[name] = None if t == NO_TIME else t
        bits = self.flags[i]
        for k, name in enumerate(_FLAGS):
            values[name] = bool(bits >> k & 1)
        for name in _SHARED:
            values[name] = self.values[name][self.codes[name][i]]
        return InboxRow(**values)  # type: ignore[arg-type]

    def group_id(self, i: int) -> str:
        """Row ``i``'s group id (read from its bytes)."""
        if self.nulls[i] & _ODD:
            return self.row(i).group_id
        pack = self.packs[i]
        return pack[: pack.index(b"\x00")].decode()

    def find(self, group_id: str) -> int | None:
        """The index of the row of ``group_id``, if held (a scan without a Python loop)."""
        try:
            key = (group_id + _SEP).encode()
        except UnicodeEncodeError:
            key = b""
        if key and _SEP not in group_id:
            try:
                return list(map(bytes.startswith, self.packs, repeat(key))).index(True)
            except ValueError:
                pass
        if self.odd:
            odd = (i for i, n in enumerate(self.nulls) if n & _ODD)
            return next((i for i in odd if self.group_id(i) == group_id), None)
        return None

    def positions(self, group_ids: Sequence[str], *, hold: bool = False) -> list[int | None]:
        """Where the rows of ``group_ids`` are (``None``: not held).

        A few ids are found by scanning; more through an index of every row built for
        the call, or kept from the last call with ``hold`` (kept up to date as rows are
        added, until a call without ``hold``: the index costs ~100 B a row).
        """
        index = self._index
        if index is None and len(group_ids) <= 8 and not hold:
            return [self.find(group_id) for group_id in group_ids]
        if index is None:
            index = self._every_position()
        self._index = index if hold else None
        return list(map(index.get, group_ids))

    def _every_position(self) -> dict[str, int]:
        return dict(zip(self.ids(), range(len(self.packs)), strict=True))

    def time(self, name: str, i: int) -> int | None:
        """``last_activity_at`` or ``last_inbound_at`` of row ``i``."""
        t = self.times[name][i]
        return None if t == NO_TIME else t

    def flag(self, name: str, i: int) -> bool:
        """One of ``suspended``, ``flagged``, ``last_outbound`` of row ``i``."""
        return bool(self.flags[i] >> _FLAGS.index(name) & 1)

    def code(self, name: str, value: str) -> int | None:
        """The code of ``value`` of a shared field (``None``: no row has it)."""
        return self._code_of[name].get(value)

    def containing(self, needle: str) -> Iterator[InboxRow]:
        """The rows (load order) whose haystack contains ``needle`` (folded)."""
        hits = map(contains, self.hays, repeat(needle))
        for i in compress(range(len(self.packs)), hits):
            yield self.row(i)


class RowsView(Sequence[InboxRow]):
    """The table's rows as a read-only sequence of records, each built on access."""

    def __init__(self, table: RowTable) -> None:
        self._table = table

    def __len__(self) -> int:
        return len(self._table)

    @overload
    def __getitem__(self, i: int) -> InboxRow: ...

    @overload
    def __getitem__(self, i: slice) -> list[InboxRow]: ...

    def __getitem__(self, i: int | slice) -> InboxRow | list[InboxRow]:
        if isinstance(i, slice):
            return [self._table.row(k) for k in range(len(self._table))[i]]
        if i < 0:
            i += len(self._table)
        if not 0 <= i < len(self._table):
            raise IndexError(i)
        return self._table.row(i)
