"""Merging rule files: deep-merge YAML mappings, remember which file set each key, name it in errors."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from activation.config.receivers import OPERATIONAL_KEYS


def read_yaml(path: Path, problems: list[str]) -> dict[str, Any] | None:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        problems.append(f"{path}: not valid YAML: {exc}".replace("\n", " "))
        return None
    if not isinstance(data, dict):
        problems.append(f"{path}: expected a mapping at the top level")
        return None
    return data


def merge(
    base: dict[str, Any],
    over: dict[str, Any],
    origin: dict[tuple[str, ...], Path],
    source: Path,
    prefix: tuple[str, ...] = (),
) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        path = (*prefix, str(key))
        if value is None and path[0] == "groups" and len(path) == 4 and path[2] == "cadences":
            # `null` removes an inherited obligation: a law that ends it (LAB 2019 ended "4 in any 12 months").
            merged.pop(key, None)
            for known in [p for p in origin if p[: len(path)] == path]:
                del origin[known]
            continue
        # A deadline rule a municipality restates replaces the baseline's rule whole: its source,
        # reminders and escalations must not silently mix with the national ones.
        whole = (len(path) == 2 and path[0] in ("deadlines", "interventions")) or (
            len(path) == 4 and path[0] == "groups" and path[2] == "cadences"
        )
        if isinstance(value, dict) and isinstance(merged.get(key), dict) and not whole:
            merged[key] = merge(merged[key], value, origin, source, path)
        else:
            merged[key] = value
            origin[path] = source
            # A replaced subtree now comes wholly from this file.
            for known in [p for p in origin if p[: len(path)] == path and p != path]:
                origin[known] = source
    return merged


def mark(data: dict[str, Any], origin: dict[tuple[str, ...], Path], source: Path, prefix: tuple[str, ...] = ()) -> None:
    for key, value in data.items():
        path = (*prefix, str(key))
        origin[path] = source
        if isinstance(value, dict):
            mark(value, origin, source, path)


def located(exc: ValidationError, origin: dict[tuple[str, ...], Path], fallback: Path) -> list[str]:
    problems = []
    for error in exc.errors():
        loc = tuple(str(part) for part in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        # Errors raised by a model validator carry their own key path in the message.
        if ": " in message and not loc:
            head = message.split(": ", 1)[0]
            loc = tuple(head.split("."))
        source = str(fallback)
        for n in range(len(loc), 0, -1):
            base_key = tuple(part.split("[")[0] for part in loc[:n])
            if base_key in origin:
                # A rule checked as a whole may be wrong through the merge of two files: name both,
                # the overriding file first.
                files = {str(f) for p, f in origin.items() if p[: len(base_key)] == base_key}
                files.discard(str(origin[base_key]))
                source = " (merged with ".join([*sorted(files, key=lambda f: "national" in f), str(origin[base_key])])
                source += ")" * (source.count("(merged"))
                break
        key = ".".join(loc) if loc else "(top level)"
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        elif error["type"] == "missing":
            message = "required key is missing"
        problems.append(f"{source}: {key}: {message}" if not message.startswith(key + ":") else f"{source}: {message}")
    return problems


def stamp(version: str, merged: dict[str, Any]) -> str:
    stamped = {k: v for k, v in merged.items() if k not in OPERATIONAL_KEYS}
    digest = hashlib.sha256(json.dumps(stamped, sort_keys=True, default=str).encode()).hexdigest()[:8]
    return f"{version}+{digest}"
