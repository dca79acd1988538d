"""The contract check: changes from a base, the operations they reach, their acknowledgements."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from graphql import GraphQLSchema

from graphql_api.contract.changelog import (
    Acknowledgement,
    Changelog,
    ChangelogGaps,
    acknowledgement,
    changelog_gaps,
)
from graphql_api.contract.changes import SchemaChange, Severity
from graphql_api.contract.deprecations import deprecated_members
from graphql_api.contract.diff import schema_changes
from graphql_api.contract.operations import ClientDocument, OperationUsage, operation_usages


@dataclass(frozen=True)
class CheckedChange:
    change: SchemaChange
    operations: tuple[str, ...]  # known operations the change reaches
    acknowledgement: Acknowledgement

    @property
    def blocking(self) -> bool:
        """A breaking change nobody acknowledged with a reason: the check fails on it."""
        return self.change.severity is Severity.BREAKING and not self.acknowledgement.accepted


@dataclass(frozen=True)
class DeprecatedInUse:
    coordinate: str
    reason: str
    operations: tuple[str, ...]


@dataclass(frozen=True)
class CheckReport:
    base: str
    operation_count: int
    changes: tuple[CheckedChange, ...]
    deprecated_in_use: tuple[DeprecatedInUse, ...]
    # Only against the released snapshot: the changelog's Unreleased entries describe
    # the changes since that snapshot, not since any other base.
    changelog_gaps: ChangelogGaps | None

    @property
    def blocking(self) -> list[CheckedChange]:
        return [checked for checked in self.changes if checked.blocking]

    @property
    def exit_code(self) -> int:
        return 1 if self.blocking else 0


def _users(coordinates: Iterable[str], usages: Sequence[OperationUsage]) -> tuple[str, ...]:
    coordinates = tuple(coordinates)
    return tuple(sorted({usage.name for usage in usages if usage.uses_any(coordinates)}))


def _deprecated_in_use(
    current: GraphQLSchema, usages: Sequence[OperationUsage]
) -> tuple[DeprecatedInUse, ...]:
    # Only what an operation writes: a variable that could carry a deprecated enum value
    # does not mean any client sends it.
    found = []
    for coordinate, reason in sorted(deprecated_members(current).items()):
        users = sorted(usage.name for usage in usages if coordinate in usage.written)
        if users:
            found.append(DeprecatedInUse(coordinate, reason, tuple(users)))
    return tuple(found)


def check_contract(
    *,
    base: GraphQLSchema,
    base_label: str,
    current: GraphQLSchema,
    documents: Sequence[ClientDocument],
    changelog: Changelog,
    against_released: bool,
) -> CheckReport:
    """Compare `current` with `base`; operations are read against the schema they ran on."""
    changes = schema_changes(base, current)
    # The operations were written against the base: that is where their coordinates mean
    # what the changes talk about (a removed field only exists there).
    base_usages = operation_usages(base, documents)
    checked = tuple(
        CheckedChange(
            change, _users(change.touches, base_usages), acknowledgement(changelog, change)
        )
        for change in changes
    )
    deprecated = _deprecated_in_use(current, operation_usages(current, documents))
    gaps = changelog_gaps(changes, changelog) if against_released else None
    return CheckReport(base_label, len(base_usages), checked, deprecated, gaps)
