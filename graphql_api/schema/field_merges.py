"""What validating a document will cost, counted before it is validated.

graphql-core's OverlappingFieldsCanBeMergedRule checks that fields sharing a
response name agree, pair by pair, and then the pairs of their sub-selections:
n copies of `salesRep { id }` in one selection set cost n² comparisons, and the
same again one level down for each pair. A document of 2,000 tokens could hold
the event loop for seconds (490 copies), and nesting multiplies it (20 copies
of 20 copies: over a second on a 2-core machine).

The measure here follows the rule's shape: fields are merged by response name,
level by level, with fragments spread where they land. Each place where n
fields meet adds n², the s fragment spreads that meet there add s² (the rule
compares those pairwise too), and every selection adds one as it is collected.
A query that repeats nothing costs two per field. The walk stops as soon as the
count passes the budget, and each step it takes adds at least one, so counting
costs at most `budget` steps, whatever the document.
"""

from __future__ import annotations

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

# A selection set and the fragments spread on the way to it (cycles stop there).
_Reached = tuple[SelectionSetNode, tuple[str, ...]]


class _OverBudget(Exception):
    pass


class _Counter:
    def __init__(self, fragments: dict[str, FragmentDefinitionNode], budget: int) -> None:
        self._fragments = fragments
        self._budget = budget
        self.total = 0

    def add(self, amount: int) -> None:
        self.total += amount
        if self.total > self._budget:
            raise _OverBudget

    def count(self, roots: list[SelectionSetNode]) -> None:
        # Loops with a stack, not recursion: a document may nest a thousand deep.
        places: list[list[_Reached]] = [[(root, ())] for root in roots]
        while places:
            by_name, spreads = self._collect(places.pop())
            # The rule compares the fragments spread at one place pair by pair too.
            self.add(spreads**2)
            for children in by_name.values():
                self.add(len(children) ** 2)
            for children in by_name.values():
                below = [(child, path) for child, path in children if child is not None]
                if below:
                    places.append(below)

    def _collect(
        self, place: list[_Reached]
    ) -> tuple[dict[str, list[tuple[SelectionSetNode | None, tuple[str, ...]]]], int]:
        """The fields that meet at one place, by response name, and the spreads there."""
        by_name: dict[str, list[tuple[SelectionSetNode | None, tuple[str, ...]]]] = {}
        spreads = 0
        pending = list(place)
        while pending:
            selection_set, path = pending.pop()
            for selection in selection_set.selections:
                # Each step counts: collecting alone may fan out (fragments
                # spreading fragments), and the budget must stop that too.
                self.add(1)
                if isinstance(selection, FieldNode):
                    name = (selection.alias or selection.name).value
                    by_name.setdefault(name, []).append((selection.selection_set, path))
                elif isinstance(selection, InlineFragmentNode):
                    pending.append((selection.selection_set, path))
                elif isinstance(selection, FragmentSpreadNode):
                    spreads += 1
                    name = selection.name.value
                    fragment = self._fragments.get(name)
                    # Unknown fragments and cycles are validation errors of their own.
                    if fragment is not None and name not in path:
                        pending.append((fragment.selection_set, (*path, name)))
        return by_name, spreads


def field_merges(document: DocumentNode, *, budget: int) -> int | None:
    """The measure of `document` (see above), or None once it passes `budget`.

    Every operation and every fragment definition counts, as validation checks
    each of them, used or not.
    """
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    counter = _Counter(fragments, budget)
    roots = [
        definition.selection_set
        for definition in document.definitions
        if isinstance(definition, OperationDefinitionNode | FragmentDefinitionNode)
    ]
    try:
        counter.count(roots)
    except _OverBudget:
        return None
    return counter.total
