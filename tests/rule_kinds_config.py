"""A private copy of the shipped config with the rule kinds of issue 13 added to Allerød, for tests."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from activation.config import DEFAULT_CONFIG_DIR

EXAMPLE = DEFAULT_CONFIG_DIR / "examples" / "rule-kinds-dk.yaml"


def example() -> dict[str, Any]:
    """Return the shipped example of the Danish rule kinds (config/examples/rule-kinds-dk.yaml)."""
    loaded: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    return loaded


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
    """Give Allerød's activity-ready and job-ready groups the first-period conversations."""
    groups = data.setdefault("groups", {})
    for group, rules in example()["groups"].items():
        groups.setdefault(group, {}).setdefault("cadences", {}).update(rules["cadences"])


def with_rule_kinds(data: dict[str, Any]) -> None:
    """Give Allerød every rule kind of the example: first-period cadences, coverage targets, self-booking."""
    with_first_conversations(data)
    shipped = example()
    for key in ("coverage_targets", "exemption_reasons", "self_booking", "work_duty"):
        data[key] = shipped[key]
