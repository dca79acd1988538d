"""The benchmark's results as markdown: the main table, the scaling line, the profile."""

from __future__ import annotations

from typing import Any

from bench.operations import OPERATIONS

_SUMMARIES = {operation.name: operation.summary for operation in OPERATIONS}


def _number(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def _ratio(value: float | None, reference: float | None) -> str:
    if value is None or not reference:
        return "-"
    return f"{value / reference:.2f}"


def _main_table(cases: list[dict[str, Any]]) -> list[str]:
    rest_rps = {c["operation"]: c["requests_per_s"] for c in cases if c["peer"] == "rest"}
    lines = [
        "| op | peer | req/s | failed | p50 ms | p99 ms | p50 ms alone | SQL/req | CPU ms/req"
        " | CPU busy | peak RSS MiB | req/s vs rest |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for case in cases:
        lines.append(
            f"| {case['operation']} | {case['peer']} | {_number(case['requests_per_s'])}"
            f" | {case['failed'] if case['failed'] is not None else '-'}"
            f" | {_number(case['p50_ms'])} | {_number(case['p99_ms'])}"
            f" | {_number(case['single_p50_ms'], 2)} | {_number(case['statements_per_request'])}"
            f" | {_number(case['cpu_ms_per_request'], 2)}"
            f" | {_number(case['cpu_busy'], 2)} | {_number(case['peak_rss_mib'])}"
            f" | {_ratio(case['requests_per_s'], rest_rps.get(case['operation']))} |"
        )
    return lines


def _rounds(cases: list[dict[str, Any]]) -> list[str]:
    """Each case's CPU ms/req rounds, lowest to highest: how steady the figure is."""
    lines = []
    for case in cases:
        rounds = sorted(case.get("cpu_ms_rounds") or [])
        if rounds:
            spread = ", ".join(_number(value, 2) for value in rounds)
            lines.append(f"- CPU ms/req rounds, {case['operation']} {case['peer']}: {spread}")
    return lines


def _scaling_table(scaling: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| O2 on one rep | peer | p50 ms | p99 ms | CPU ms/req | SQL/req | requests |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for case in scaling:
        lines.append(
            f"| {case['variant']} | {case['peer']} | {_number(case['single_p50_ms'], 2)}"
            f" | {_number(case['single_p99_ms'], 2)} | {_number(case['cpu_ms_per_request'], 2)}"
            f" | {_number(case['statements_per_request'])} | {case['single_requests']} |"
        )
    return lines


def scaling_line(scaling: list[dict[str, Any]], peer: str = "api") -> str:
    points = [c for c in scaling if c["peer"] == peer]
    parts = [
        f"{c['variant']}: {c['single_p50_ms']:.1f} ms p50, {c['cpu_ms_per_request']:.2f} ms CPU"
        for c in points
    ]
    return f"{peer} O2 " + " | ".join(parts)


def largest_cost(profile: dict[str, Any]) -> str:
    stage = profile["stages"][0]
    return (
        f"API {profile['operation']}: {stage['name']} takes {stage['percent']:.0f}% of the"
        f" CPU, {stage['ms_per_request']:.2f} of {profile['cpu_ms_per_request']:.2f} ms per request"
    )


def _profile_section(profile: dict[str, Any]) -> list[str]:
    lines = [
        f"#### API {profile['operation']} ({profile['samples']} samples,"
        f" {profile['cpu_ms_per_request']:.2f} ms CPU per request)",
        "",
        "| stage | share | ms/req |",
        "|---|---:|---:|",
    ]
    lines += [
        f"| {s['name']} | {s['percent']:.1f}% | {s['ms_per_request']:.2f} |"
        for s in profile["stages"]
    ]
    lines += ["", "Hottest functions (self time):", ""]
    lines += [f"- {s['percent']:.1f}% `{s['name']}`" for s in profile["top_self"][:8]]
    return [*lines, ""]


def markdown(report: dict[str, Any]) -> str:
    meta = report["meta"]
    rows = meta["rows"]
    lines = [
        f"# Benchmark {meta['date']} (scale {meta['scale']}, commit {meta['commit']})",
        "",
        f"{rows['sales_reps']:,} sales reps, {rows['customers']:,} customers,"
        f" {rows['events']:,} events; MariaDB {meta['mariadb']}; {meta['wrk']};"
        f" Python {meta['python']}; {meta['cpus']} CPUs. Every server: one uvicorn worker,"
        f" production settings, pool of 10. Load: {meta['connections']} connections,"
        f" {meta['warmup_s']:g} s warm-up, {meta['duration_s']:g} s per case"
        f" (O3 {meta['o3_duration_s']:g} s). Whole run {meta['total_s']:.0f} s; machine load"
        f" average {meta['load_average']['start']:.1f} at the start,"
        f" {meta['load_average']['end']:.1f} at the end.",
        "",
        "Operations: " + "; ".join(f"{name} {text}" for name, text in _SUMMARIES.items()) + ".",
        "",
        "req/s, p50, p99, CPU busy (server CPU s per s) and peak RSS under load;"
        " p50 alone, SQL/req and CPU ms/req with one request at a time (exact counts),"
        " the peers of a case metered in turns: CPU ms/req is the median of each peer's"
        " rounds (their range under the table)."
        " req/s counts answers without errors; wrk's latencies include failed answers.",
        "",
        *_main_table(report["cases"]),
        "",
        *_rounds(report["cases"]),
        "",
        "## Scaling: O2 on the scaling rep, one request at a time",
        "",
        scaling_line(report["scaling"]),
        "",
        *_scaling_table(report["scaling"]),
        "",
    ]
    problems = [
        f"- {c['operation']} {c['variant']} {c['peer']}: {p}"
        for c in report["cases"] + report["scaling"]
        for p in c["problems"]
    ]
    failures = [
        f"- {c['operation']} {c['peer']}: {c['failed']} failed answers, first:"
        f" `{c['first_failure'][:240]}`"
        for c in report["cases"]
        if c["failed"]
    ]
    if failures:
        lines += ["## Failed answers under load (counted apart from req/s)", "", *failures, ""]
    if problems:
        lines += ["## Problems with the run", "", *problems, ""]
    if report["profiles"]:
        lines += ["## Where the API's time goes (py-spy under load)", ""]
        lines += [f"- {largest_cost(profile)}" for profile in report["profiles"]]
        lines += [""]
        for profile in report["profiles"]:
            lines += _profile_section(profile)
    return "\n".join(lines).rstrip() + "\n"
