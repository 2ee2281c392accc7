"""The report: ``report.json`` (everything measured) and ``report.md`` (the same, for people)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

REQUIRED = (
    "earn-limit-8",
    "earn-limit-32",
    "earn-8",
    "earn-32",
    "earn-async-8",
    "earn-async-32",
    "read-8",
    "read-32",
    "hot-8",
    "hot-32",
    "import",
    "nightly-expiry",
    "nightly-tier-review",
    "embedded",
)
"""Every scenario issues 4 and 9 ask for; a report missing one (or with one that failed) is an incomplete run."""


def missing(report: dict[str, Any]) -> list[str]:
    """Scenario ids that are absent from ``report`` or have no measurement (they failed)."""
    found = {scenario["id"]: scenario for scenario in report.get("scenarios", [])}
    return [name for name in REQUIRED if name not in found or found[name].get("error") or not found[name]["measured"]]


def write(report: dict[str, Any], folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    json_path, markdown_path = folder / "report.json", folder / "report.md"
    json_path.write_text(json.dumps(report, indent=2, default=str) + "\n")
    markdown_path.write_text(markdown(report))
    return json_path, markdown_path


def _number(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}" if value >= 100 else f"{value:,.3g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _latency(section: dict[str, Any]) -> str:
    latency = section.get("latency_ms")
    if not latency:
        return "–"
    return f"{latency['p50']:.1f} / {latency['p99']:.1f} / {latency['p999']:.1f}"


def _verdict(scenario: dict[str, Any]) -> str:
    if scenario.get("error"):
        return "FAILED"
    return {True: "met", False: "not met", None: "–"}[scenario["met"]]


def markdown(report: dict[str, Any]) -> str:
    machine = report["machine"]
    lines = [
        f"# Punchcard benchmark report ({report['mode']})",
        "",
        f"Run {report['started_at']} → {report['finished_at']} ({report['total_seconds']:.0f} s). "
        f"Load average at start {report['load_average']['start']}, at end {report['load_average']['end']}.",
        "",
        "## Machine and set-up",
        "",
        f"- {machine['nproc']} cores ({machine['cpu']}), {machine['memory_gib']} GiB RAM, Linux {machine['kernel']}, "
        f"Python {machine['python']}, code at {machine['git']}",
        f"- PostgreSQL {machine['postgresql']}: "
        + ", ".join(f"{name}={value}" for name, value in machine["postgresql_settings"].items()),
        f"- Server under test: `{report['server']['command']}`; {report['server']['workers']} worker processes, "
        f"a pool of {report['server']['pool_size']} connections per worker (PUNCHCARD_DATABASE_POOL_SIZE, plus as "
        f"many again in overflow); SQLite: {report['server']['sqlite_workers']} worker(s)",
        f"- Load generator: {report['load_generator']}",
        f"- Fixture set-up: {report['setup_seconds']}",
        "",
        "## Results",
        "",
        "| scenario | Punchcard | baseline | ratio | p50 / p99 / p99.9 ms | goal | |",
        "|---|---|---|---|---|---|---|",
    ]
    for scenario in report["scenarios"]:
        measured, baseline = scenario["measured"], scenario["baseline"]
        value = f"{_number(measured['per_second'])}/s" if "per_second" in measured else _seconds(measured)
        base = f"{_number(baseline['per_second'])}/s ({baseline['name']})" if baseline.get("per_second") else "–"
        ratio = f"{scenario['ratio']:.3f}×" if scenario.get("ratio") is not None else "–"
        lines.append(
            f"| {scenario['id']} | {value} | {base} | {ratio} | {_latency(measured)} | {scenario['goal']} | "
            f"{_verdict(scenario)} |"
        )
    lines += [
        "",
        "By how much each goal is missed, why, and what was tried: docs/performance.md ('Latest full-size results',",
        "'What limits each number').",
    ]
    lines += ["", "Baseline latencies (p50 / p99 / p99.9 ms):", ""]
    for scenario in report["scenarios"]:
        if scenario["baseline"].get("latency_ms"):
            lines.append(f"- {scenario['id']}: {_latency(scenario['baseline'])} ({scenario['baseline']['name']})")
    lines += ["", "## Scenarios", ""]
    for scenario in report["scenarios"]:
        lines += [f"### {scenario['id']}: {scenario['title']}", ""]
        if scenario.get("error"):
            lines += [f"**Failed:** {scenario['error']}", ""]
            continue
        for check in scenario["checks"]:
            lines.append(f"- check: {check}")
        cpu = scenario["measured"].get("cpu_cores")
        if cpu:
            lines.append("- CPU cores used: " + ", ".join(f"{name} {value}" for name, value in cpu.items()))
        for name in ("command",):
            if name in scenario["measured"]:
                lines.append(f"- command: `{scenario['measured'][name]}`")
            if name in scenario["baseline"]:
                lines.append(f"- baseline: `{scenario['baseline'][name]}`")
        extra = {
            key: value
            for key, value in scenario["measured"].items()
            if key not in {"command", "cpu_cores", "latency_ms", "per_second", "errors"}
        }
        lines.append("- measured: " + ", ".join(f"{key} {_number(value)}" for key, value in extra.items()))
        if scenario.get("notes"):
            lines.append(f"- {scenario['notes']}")
        lines.append("")
    return "\n".join(lines) + "\n"


def _seconds(measured: dict[str, Any]) -> str:
    return f"{measured['seconds']:.1f} s" if "seconds" in measured else "–"
