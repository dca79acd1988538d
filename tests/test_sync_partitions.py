"""The scan's pages regrouped into whole partitions (sync/partitions.py), however cut."""

from __future__ import annotations

import itertools
import json

from hypothesis import given
from hypothesis import strategies as st

from graphql_api.stores import dynamodb_items as items
from graphql_api.sync.partitions import PartitionGrouper, position_after


def _table(sizes: list[int]) -> list[items.Item]:
    """Partitions of the given sizes, in scan order: events, then the profile."""
    rows: list[items.Item] = []
    for number, size in enumerate(sizes):
        customer = f"C{number:04d}"
        rows += [
            {items.PK: {"S": items.customer_pk(customer)}, items.SK: {"S": items.event_sk(n)}}
            for n in range(size - 1)
        ]
        rows.append(items.customer_key(customer))
    return rows


def _pages(rows: list[items.Item], cuts: list[int]) -> list[list[items.Item]]:
    bounds = [0, *sorted({cut % (len(rows) + 1) for cut in cuts}), len(rows)]
    return [rows[start:end] for start, end in itertools.pairwise(bounds)]


@given(
    sizes=st.lists(st.integers(min_value=1, max_value=6), min_size=1, max_size=30),
    cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=12),
)
def test_whole_partitions_come_out_in_order_however_the_pages_are_cut(
    sizes: list[int], cuts: list[int]
) -> None:
    rows = _table(sizes)
    pages = _pages(rows, cuts)
    grouper = PartitionGrouper()
    batches = [
        grouper.complete(page, last=number == len(pages) - 1) for number, page in enumerate(pages)
    ]
    assert [row for batch in batches for row in batch] == rows
    for batch in batches[:-1]:
        if batch:
            # A batch ends where its last partition ends: the next row starts another.
            following = rows[rows.index(batch[-1]) + 1]
            assert following[items.PK] != batch[-1][items.PK]
    assert grouper.held == 0


def test_a_page_inside_one_partition_waits_for_the_partition_to_end() -> None:
    rows = _table([5, 1])
    grouper = PartitionGrouper()
    assert grouper.complete(rows[:2], last=False) == []
    assert grouper.held == 2
    assert grouper.complete(rows[2:6], last=False) == rows[:5]
    assert grouper.complete([], last=True) == rows[5:]


def test_the_position_after_an_item_is_its_primary_key() -> None:
    row: items.Item = {**_table([1])[0], "name": {"S": "not part of the key"}}
    assert json.loads(position_after(row)) == {items.PK: row[items.PK], items.SK: row[items.SK]}
