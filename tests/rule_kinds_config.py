"""A private copy of the shipped config with the law's rule kinds laid on Allerød's own file, for tests.

The rule kinds of issue 13 live in the dated Danish national versions (first-period conversations and
self-booking from dk-2020-01, work duty from dk-2025-07, coverage targets and the job-ready first-period
offer from dk-2026-07). Tests of the mechanisms (counting, coverage shares, week plans) want them at
every moment of their fixed clock, so they take the blocks from those files and put them in Allerød's
own file; tests/test_law_rules.py checks the same rules through the versions by date.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from activation.config import DEFAULT_CONFIG_DIR

NATIONAL = DEFAULT_CONFIG_DIR / "national" / "dk"


def _changes(version: str) -> dict[str, Any]:
    """Return the `changes:` of a shipped Danish national version (e.g. "2026-07")."""
    loaded: dict[str, Any] = yaml.safe_load((NATIONAL / f"{version}.yaml").read_text(encoding="utf-8"))
    changes: dict[str, Any] = loaded["changes"]
    return changes


def example() -> dict[str, Any]:
    """Return the Danish rule kinds as the national versions place them, the later version winning."""
    first, duty, reform = _changes("2020-01"), _changes("2025-07"), _changes("2026-07")
    groups: dict[str, Any] = {}
    for changes in (first, reform):
        for group, rules in (changes.get("groups") or {}).items():
            cadences = {k: v for k, v in (rules.get("cadences") or {}).items() if k.startswith("first_")}
            if cadences:
                groups.setdefault(group, {"cadences": {}})["cadences"].update(cadences)
    return {
        "groups": groups,
        "coverage_targets": reform["coverage_targets"],
        "exemption_reasons": reform["exemption_reasons"],
        "self_booking": first["self_booking"],
        "work_duty": duty["work_duty"],
    }


def config_with(tmp_path: Path, change: Callable[[dict[str, Any]], object]) -> Path:
    """Copy the shipped config to tmp_path and let change() edit Allerød's file; return the directory."""
    root = tmp_path / "config"
    shutil.copytree(DEFAULT_CONFIG_DIR, root)
    path = root / "municipalities" / "allerod.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return root


def with_first_conversations(data: dict[str, Any]) -> None:
    """Give Allerød's activity-ready and job-ready groups the first-period conversations at every date."""
    groups = data.setdefault("groups", {})
    for group, rules in example()["groups"].items():
        if group in ("activity_ready", "job_ready"):
            groups.setdefault(group, {}).setdefault("cadences", {}).update(rules["cadences"])


def with_rule_kinds(data: dict[str, Any]) -> None:
    """Give Allerød every rule kind at every date: first-period cadences, coverage targets, self-booking."""
    with_first_conversations(data)
    shipped = example()
    for key in ("coverage_targets", "exemption_reasons", "self_booking", "work_duty"):
        data[key] = shipped[key]
