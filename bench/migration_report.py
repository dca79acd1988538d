"""The migration bench's results as markdown: ours against the raw limits, then the limits."""

from __future__ import annotations

from typing import Any


def _number(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _commands(commands: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| command | items | wall s | items/s | held to | limit items/s | ratio | us/item"
        " | CPU us/item | peak RSS MiB |",
        "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for case in commands:
        stopped = " (stopped)" if case["stopped"] else ""
        # Rates from wall time (the command reported none of its own) are marked.
        wall = "" if case.get("own_rate", False) else " (wall)"
        lines.append(
            f"| {case['command']}{stopped} | {_number(case['items'])}"
            f" | {_number(case['seconds'], 1)} | {_number(case['items_per_s'])}{wall}"
            f" | {case['limit']} | {_number(case['limit_items_per_s'])}"
            f" | {_number(case['ratio'], 2)} | {_number(case['us_per_item'])}"
            f" | {_number(case.get('cpu_us_per_item'))} | {_number(case['peak_rss_mib'])} |"
        )
    return lines


def _raw(raws: dict[str, dict[str, Any]]) -> list[str]:
    lines = ["| raw limit | items | s | items/s |", "|---|---:|---:|---:|"]
    for name, timed in raws.items():
        lines.append(
            f"| {name} | {_number(timed['items'])} | {_number(timed['seconds'], 1)}"
            f" | {_number(timed['items_per_s'])} |"
        )
    return [
        *lines,
        "",
        "A Scan around a command is the mean rate of the faster raw Scans just before and"
        " just after it (moto's speed drifts over a run).",
    ]


def _windows(meta: dict[str, Any]) -> str:
    raw = meta.get("raw_window_s")
    scans = meta.get("scan_limit_s")
    copy = meta.get("copy_limit_s")
    copied = "" if copy is None else f"migrate mysql-to-dynamodb stopped after {copy:g} s. "
    return copied + (
        (
            "Raw readings of moto ran to the end"
            if raw is None
            else f"Raw readings of moto stopped after {raw:g} s (rates over their calls so far)"
        )
        + "; verify and migrate dynamodb-to-mysql "
        + (
            "ran to the end."
            if scans is None
            else f"stopped after {scans:g} s (rates from their last progress line)."
        )
    )


def markdown(report: dict[str, Any]) -> str:
    meta = report["meta"]
    rows = meta["rows"]
    load = meta["load_average"]
    lines = [
        f"# Migration bench, scale {meta['scale']}, {meta['date']}, commit {meta['commit']}",
        "",
        f"{rows['sales_reps']:,} reps, {rows['customers']:,} customers, {rows['events']:,}"
        f" events; storm of {meta['storm_mutations']:,} mutations. {meta['cpus']} CPUs, load"
        f" average {load['start']} at the start and {load['end']} at the end; Python"
        f" {meta['python']}, MariaDB {meta['mariadb']}, moto {meta['moto']};"
        f" {meta['total_s']:,.0f} s in all.",
        "",
        _windows(meta),
        "",
        *_commands(report["commands"]),
        "",
        *_raw(report["raw"]),
        "",
    ]
    if report["problems"]:
        lines += ["Problems:", "", *(f"- {problem}" for problem in report["problems"]), ""]
    return "\n".join(lines)
