"""A least-recently-used cache keyed by text, bounded by entries and by the text they hold.

The caches of parsed and validated documents keep an AST per entry, about 80
bytes of AST per byte of query text (816 KiB for a document of 2,000 tokens).
Bounded by entries alone, 512 of the largest documents a client may send held
about 400 MiB per cache; bounded by text too, what one client can make a worker
hold has a ceiling.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, TypeVar

_V = TypeVar("_V")
_ABSENT = object()


class TextCache(Generic[_V]):
    """text -> value; past `max_entries` or `max_text` characters of keys, the
    least recently used entries go first."""

    def __init__(self, *, max_entries: int, max_text: int) -> None:
        self._max_entries = max_entries
        self._max_text = max_text
        self._text = 0
        self._entries: OrderedDict[str, _V] = OrderedDict()

    def get(self, text: str) -> _V | None:
        """The value kept for `text`, or None; a hit becomes the most recent."""
        found = self._entries.get(text, _ABSENT)
        if found is _ABSENT:
            return None
        self._entries.move_to_end(text)
        return found  # type: ignore[return-value]

    def __contains__(self, text: str) -> bool:
        return text in self._entries

    def put(self, text: str, value: _V) -> None:
        if len(text) > self._max_text:
            return  # would push out everything else and still not fit
        if text in self._entries:
            self._entries.move_to_end(text)
        else:
            self._text += len(text)
        self._entries[text] = value
        while len(self._entries) > self._max_entries or self._text > self._max_text:
            oldest, _ = self._entries.popitem(last=False)
            self._text -= len(oldest)

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def text(self) -> int:
        """Characters of text the keys hold."""
        return self._text
