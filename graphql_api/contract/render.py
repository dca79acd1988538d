"""A CheckReport as text for a reviewer, or as JSON for a machine."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from graphql_api.contract.changelog import UNRELEASED_HEADING, ChangelogGaps
from graphql_api.contract.changes import Severity
from graphql_api.contract.check import CheckedChange, CheckReport

_PLACEHOLDER_REASON = "<why no client breaks>"


def _used_by(checked: CheckedChange) -> str:
    if checked.operations:
        return f"used by: {', '.join(checked.operations)}"
    if checked.change.severity is Severity.BREAKING:
        return "used by: no known operation (it breaks none of the clients this check knows)"
    return "used by: no known operation"


def _acknowledgement_lines(checked: CheckedChange, changelog: str) -> list[str]:
    entry = checked.acknowledgement.entry
    if checked.acknowledgement.accepted and entry is not None:
        return [f"acknowledged ({changelog} line {entry.line}): {entry.reason}"]
    if not checked.blocking:
        return []
    lines = [f"NOT ACKNOWLEDGED; add under `{UNRELEASED_HEADING}` in {changelog}:"]
    if entry is not None:
        lines = [f"{changelog} line {entry.line} is {checked.acknowledgement.refusal}"]
    return [*lines, f"  - {checked.change.key} — {_PLACEHOLDER_REASON}"]


def _change_lines(checked: CheckedChange, changelog: str) -> list[str]:
    change = checked.change
    head = f"{change.severity.upper():<10} {change.kind} {change.coordinate}"
    details = [change.description, _used_by(checked), *_acknowledgement_lines(checked, changelog)]
    return [head, *(f"  {detail}" for detail in details), ""]


def _gap_lines(gaps: ChangelogGaps | None, changelog: str) -> list[str]:
    if gaps is None:
        return []
    if gaps.empty:
        return [f"Changelog: every change is listed under `{UNRELEASED_HEADING}` in {changelog}"]
    lines = [f"Changelog: {changelog} is not up to date under `{UNRELEASED_HEADING}`:"]
    lines += [f"  missing: - {change.key} — ..." for change in gaps.missing]
    lines += [f"  no such change (line {entry.line}): {entry.key}" for entry in gaps.stale]
    return lines


def _count(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _deprecated_lines(report: CheckReport) -> list[str]:
    title = "Deprecated and still used by known operations:"
    if not report.deprecated_in_use:
        return [f"{title} none"]
    uses = [
        f"  {d.coordinate} ({d.reason}): {', '.join(d.operations)}"
        for d in report.deprecated_in_use
    ]
    return [title, *uses]


def render_text(report: CheckReport, *, changelog: str) -> str:
    counts = Counter(checked.change.severity for checked in report.changes)
    summary = ", ".join(f"{counts[severity]} {severity}" for severity in Severity)
    lines = [
        f"Contract check: the code's schema against {report.base}"
        f" ({report.operation_count} known operations)",
        f"{_count(len(report.changes), 'change')}: {summary}" if report.changes else "No changes.",
        "",
    ]
    for checked in report.changes:
        lines += _change_lines(checked, changelog)
    lines += _deprecated_lines(report)
    lines += _gap_lines(report.changelog_gaps, changelog)
    blocking = len(report.blocking)
    verdict = (
        _count(blocking, "unacknowledged breaking change") if blocking else "no breaking change"
    )
    if not blocking and any(c.change.severity is Severity.BREAKING for c in report.changes):
        verdict = "every breaking change is acknowledged"
    lines.append(f"Result: {verdict}; exit {report.exit_code}")
    return "\n".join(lines) + "\n"


def _change_json(checked: CheckedChange) -> dict[str, Any]:
    change, entry = checked.change, checked.acknowledgement.entry
    return {
        "severity": change.severity.value,
        "kind": change.kind,
        "coordinate": change.coordinate,
        "description": change.description,
        "operations": list(checked.operations),
        "acknowledged": checked.acknowledgement.accepted,
        "entry": None if entry is None else {"line": entry.line, "reason": entry.reason},
        "refusal": checked.acknowledgement.refusal,
        "blocking": checked.blocking,
    }


def render_json(report: CheckReport) -> str:
    gaps = report.changelog_gaps
    document = {
        "base": report.base,
        "operation_count": report.operation_count,
        "changes": [_change_json(checked) for checked in report.changes],
        "deprecated_in_use": [
            {"coordinate": d.coordinate, "reason": d.reason, "operations": list(d.operations)}
            for d in report.deprecated_in_use
        ],
        "changelog": None
        if gaps is None
        else {
            "missing": [change.key for change in gaps.missing],
            "stale": [entry.key for entry in gaps.stale],
        },
        "exit_code": report.exit_code,
    }
    return json.dumps(document, indent=2) + "\n"
