"""A scan segment's items handed out a whole partition at a time.

A customer's partition holds its events (sort keys `EVENT#...`) and then its
profile (`PROFILE`); a Scan returns a partition's items together, in sort-key
order, but a page may end in the middle of one. Holding back the page's last,
possibly unfinished partition until the next page shows where it ends lets a
migration write a customer and its events in one transaction, parent first,
without keeping anything of the table in memory but that one partition.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from graphql_api.stores import dynamodb_items as items

if TYPE_CHECKING:
    from graphql_api.stores.dynamodb_items import Item


class PartitionGrouper:
    def __init__(self) -> None:
        # The items of the partition the last page ended in.
        self._open: list[Item] = []

    @property
    def held(self) -> int:
        return len(self._open)

    def complete(self, page: list[Item], *, last: bool) -> list[Item]:
        """The held items and the page's, up to the last partition that is surely
        complete; all of them when `last` (the segment's scan has ended)."""
        pending = self._open + page
        if last or not pending:
            self._open = []
            return pending
        open_partition = pending[-1][items.PK]["S"]
        cut = len(pending)
        while cut and pending[cut - 1][items.PK]["S"] == open_partition:
            cut -= 1
        self._open = pending[cut:]
        return pending[:cut]


def position_after(item: Item) -> str:
    """A checkpoint that resumes a scan right after `item` (its primary key, as
    ExclusiveStartKey takes it)."""
    return json.dumps({items.PK: item[items.PK], items.SK: item[items.SK]}, sort_keys=True)
