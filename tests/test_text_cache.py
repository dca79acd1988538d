"""The document caches' bound: entries and the text they hold, least recently used out first."""

from __future__ import annotations

from graphql_api.text_cache import TextCache


def test_past_the_entries_the_least_recently_used_goes() -> None:
    cache: TextCache[int] = TextCache(max_entries=2, max_text=1_000)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # now the most recent
    cache.put("c", 3)
    assert ("a" in cache, "b" in cache, "c" in cache) == (True, False, True)


def test_past_the_text_the_least_recently_used_go_until_it_fits() -> None:
    cache: TextCache[None] = TextCache(max_entries=100, max_text=10)
    cache.put("aaaa", None)
    cache.put("bbbb", None)
    assert cache.text == 8
    cache.put("cc", None)  # exactly at the bound: nothing goes
    assert (len(cache), cache.text) == (3, 10)
    cache.put("ddd", None)  # 13: the oldest goes
    assert ("aaaa" in cache, cache.text) == (False, 9)
    # A key that could never fit is not kept, and pushes nothing out.
    cache.put("x" * 11, None)
    assert ("x" * 11 in cache, len(cache), cache.text) == (False, 3, 9)


def test_a_value_of_none_is_kept_and_told_apart_by_contains() -> None:
    cache: TextCache[None] = TextCache(max_entries=2, max_text=100)
    cache.put("junk", None)
    assert "junk" in cache
    assert cache.get("junk") is None
    assert "other" not in cache
