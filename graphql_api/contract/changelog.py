"""schema-changes.md: the contract's changelog, and the acknowledgements the check reads.

An entry is one line, at the start of a line:

    - breaking: FIELD_REMOVED Customer.fax — no client reads it since the 2026-10 release

that is severity, kind and coordinate exactly as the check prints them, then `—` (or
`--`) and why. Entries under `## Unreleased` are the changes since contract/released.graphql;
every such change needs one. A breaking change is acknowledged by its entry, anywhere in
the file, and only when the entry gives a reason. Other lines are prose and ignored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from graphql_api.contract.changes import SchemaChange, Severity
from graphql_api.errors import ContractSourceError

UNRELEASED_HEADING = "## Unreleased"
_SEVERITIES = "|".join(severity.value for severity in Severity)
_ENTRY_START = re.compile(rf"- (?:{_SEVERITIES}):")
_ENTRY = re.compile(
    rf"- (?P<severity>{_SEVERITIES}): (?P<kind>[A-Z_]+) (?P<coordinate>\S+)"
    r"(?:\s+(?:—|--)\s*(?P<reason>.*?))?\s*$"
)


@dataclass(frozen=True)
class ChangelogEntry:
    severity: Severity
    kind: str
    coordinate: str
    reason: str  # empty when the line gives none
    line: int
    unreleased: bool  # under `## Unreleased`, i.e. since the released snapshot

    @property
    def key(self) -> str:
        return f"{self.severity}: {self.kind} {self.coordinate}"


@dataclass(frozen=True)
class Changelog:
    entries: tuple[ChangelogEntry, ...]

    def unreleased(self) -> list[ChangelogEntry]:
        return [entry for entry in self.entries if entry.unreleased]


def _entry(line: str, number: int, *, unreleased: bool, label: str) -> ChangelogEntry:
    match = _ENTRY.match(line)
    if match is None:
        problem = f"line {number} is not `- severity: KIND Coordinate — reason`: {line!r}"
        raise ContractSourceError(label, problem)
    severity = Severity(match["severity"])
    reason = match["reason"] or ""
    return ChangelogEntry(severity, match["kind"], match["coordinate"], reason, number, unreleased)


def parse_changelog(text: str, *, label: str) -> Changelog:
    entries = []
    section = None
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("## "):
            section = line.strip()
        elif _ENTRY_START.match(line):
            unreleased = section == UNRELEASED_HEADING
            entries.append(_entry(line, number, unreleased=unreleased, label=label))
    if UNRELEASED_HEADING not in text.splitlines():
        raise ContractSourceError(label, f"has no `{UNRELEASED_HEADING}` heading")
    return Changelog(tuple(entries))


def read_changelog(path: Path) -> Changelog:
    if not path.is_file():
        raise ContractSourceError(str(path), "no such changelog")
    return parse_changelog(path.read_text(), label=str(path))


@dataclass(frozen=True)
class Acknowledgement:
    entry: ChangelogEntry | None
    refusal: str | None  # why the entry does not count

    @property
    def accepted(self) -> bool:
        return self.entry is not None and self.refusal is None


def acknowledgement(changelog: Changelog, change: SchemaChange) -> Acknowledgement:
    """The entry naming `change`, and whether it counts as an acknowledgement."""
    entries = [entry for entry in changelog.entries if entry.key == change.key]
    with_reason = [entry for entry in entries if entry.reason]
    if with_reason:
        return Acknowledgement(with_reason[0], None)
    if entries:
        return Acknowledgement(entries[0], "refused: the entry gives no reason after `—`")
    return Acknowledgement(None, None)


@dataclass(frozen=True)
class ChangelogGaps:
    missing: tuple[SchemaChange, ...]  # changes with no entry under Unreleased
    stale: tuple[ChangelogEntry, ...]  # Unreleased entries naming no current change

    @property
    def empty(self) -> bool:
        return not self.missing and not self.stale


def changelog_gaps(changes: Iterable[SchemaChange], changelog: Changelog) -> ChangelogGaps:
    """`changes` (since the released snapshot) against the entries under Unreleased."""
    changes = list(changes)
    listed = {entry.key for entry in changelog.unreleased()}
    current = {change.key for change in changes}
    missing = tuple(change for change in changes if change.key not in listed)
    stale = tuple(entry for entry in changelog.unreleased() if entry.key not in current)
    return ChangelogGaps(missing, stale)


def with_release(text: str, *, heading: str) -> str:
    """The changelog with its Unreleased entries under `heading`, a fresh Unreleased above."""
    lines = text.splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.strip() == UNRELEASED_HEADING)
    return "".join([*lines[: at + 1], "\n", f"{heading}\n", *lines[at + 1 :]])
