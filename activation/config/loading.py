"""Loading a config directory: read, deep-merge and validate the YAML, naming the file behind each error."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from activation.config.municipality import Municipality, RuleSet
from activation.config.receivers import OPERATIONAL_KEYS
from activation.config.rulebook import ConfigError, RuleBook, RuleVersion, VersionFile

ENV_CONFIG_DIR = "ACTIVATION_CONFIG_DIR"
# This module is activation/config/loading.py; the bundled YAML lives in the top-level config/.
DEFAULT_CONFIG_DIR = Path(__file__).resolve().parent.parent.parent / "config"


def config_dir(explicit: str | Path | None = None) -> Path:
    """Return the config directory: the argument, else $ACTIVATION_CONFIG_DIR, else the bundled one."""
    chosen = explicit or os.environ.get(ENV_CONFIG_DIR) or DEFAULT_CONFIG_DIR
    return Path(chosen)


def _read_yaml(path: Path, problems: list[str]) -> dict[str, Any] | None:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        problems.append(f"{path}: not valid YAML: {exc}".replace("\n", " "))
        return None
    if not isinstance(data, dict):
        problems.append(f"{path}: expected a mapping at the top level")
        return None
    return data


def _merge(
    base: dict[str, Any],
    over: dict[str, Any],
    origin: dict[tuple[str, ...], Path],
    source: Path,
    prefix: tuple[str, ...] = (),
) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        path = (*prefix, str(key))
        # A deadline rule a municipality restates replaces the baseline's rule whole: its source,
        # reminders and escalations must not silently mix with the national ones.
        whole = (len(path) == 2 and path[0] in ("deadlines", "interventions")) or (
            len(path) == 4 and path[0] == "groups" and path[2] == "cadences"
        )
        if isinstance(value, dict) and isinstance(merged.get(key), dict) and not whole:
            merged[key] = _merge(merged[key], value, origin, source, path)
        else:
            merged[key] = value
            origin[path] = source
            # A replaced subtree now comes wholly from this file.
            for known in [p for p in origin if p[: len(path)] == path and p != path]:
                origin[known] = source
    return merged


def _mark(
    data: dict[str, Any], origin: dict[tuple[str, ...], Path], source: Path, prefix: tuple[str, ...] = ()
) -> None:
    for key, value in data.items():
        path = (*prefix, str(key))
        origin[path] = source
        if isinstance(value, dict):
            _mark(value, origin, source, path)


def _located(exc: ValidationError, origin: dict[tuple[str, ...], Path], fallback: Path) -> list[str]:
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


def load(directory: str | Path | None = None) -> RuleBook:
    """Load, merge and validate every rule set in a config directory."""
    root = config_dir(directory)
    problems: list[str] = []
    if not root.is_dir():
        raise ConfigError([f"{root}: config directory not found (set {ENV_CONFIG_DIR} or --config-dir)"])
    national: dict[str, tuple[Path, dict[str, Any]]] = {}
    broken: set[str] = set()
    for path in sorted((root / "national").glob("*.yaml")):
        data = _read_yaml(path, problems)
        if data is None:
            broken.add(path.stem.lower())
            continue
        national[path.stem.lower()] = (path, data)
        origin: dict[tuple[str, ...], Path] = {}
        _mark(data, origin, path)
        try:
            RuleSet.model_validate(data)
        except ValidationError as exc:
            problems.extend(_located(exc, origin, path))
    municipalities: dict[str, Municipality] = {}
    versions: dict[str, str] = {}
    history: dict[str, tuple[RuleVersion, ...]] = {}
    files = sorted((root / "municipalities").glob("*.yaml"))
    if not files:
        problems.append(f"{root / 'municipalities'}: no municipality files (*.yaml)")
    for path in files:
        data = _read_yaml(path, problems)
        if data is None:
            continue
        base_name = str(data.get("extends", "")).lower()
        if base_name in broken:
            continue  # the baseline's own problems are reported above
        if base_name not in national:
            known = ", ".join(sorted(national)) or "none"
            problems.append(f"{path}: extends: unknown baseline {data.get('extends')!r}; baselines: {known}")
            continue
        base_path, base = national[base_name]
        origin = {}
        _mark(base, origin, base_path)
        merged = _merge(base, data, origin, path)
        merged.setdefault("code", path.stem.lower())
        if merged["code"] != path.stem.lower():
            problems.append(f"{path}: code: {merged['code']!r} must match the file name {path.stem!r}")
            continue
        try:
            municipality = Municipality.model_validate(merged)
        except ValidationError as exc:
            problems.extend(_located(exc, origin, path))
            continue
        municipalities[municipality.code] = municipality
        versions[municipality.code] = _stamp(municipality.version, merged)
        first = RuleVersion(municipality.version, versions[municipality.code], None, municipality, {}, None, path)
        history[municipality.code] = (first, *_later_versions(root, municipality, merged, origin, problems))
    if problems:
        # A mistake in a baseline shows once per municipality that extends it: report it once.
        raise ConfigError(list(dict.fromkeys(problems)))
    return RuleBook(root, municipalities, versions, history)


def _stamp(version: str, merged: dict[str, Any]) -> str:
    stamped = {k: v for k, v in merged.items() if k not in OPERATIONAL_KEYS}
    digest = hashlib.sha256(json.dumps(stamped, sort_keys=True, default=str).encode()).hexdigest()[:8]
    return f"{version}+{digest}"


def _later_versions(
    root: Path,
    first: Municipality,
    merged: dict[str, Any],
    origin: dict[tuple[str, ...], Path],
    problems: list[str],
) -> list[RuleVersion]:
    """Load versions/<code>/*.yaml in order of their dates, each merged over the one before."""
    files: list[tuple[VersionFile, Path]] = []
    for path in sorted((root / "versions" / first.code).glob("*.yaml")):
        data = _read_yaml(path, problems)
        if data is None:
            continue
        try:
            files.append((VersionFile.model_validate(data), path))
        except ValidationError as exc:
            problems.extend(_located(exc, {}, path))
    files.sort(key=lambda item: item[0].effective_from)
    later: list[RuleVersion] = []
    seen = {first.version}
    previous = merged
    for spec, path in files:
        if spec.version in seen:
            problems.append(f"{path}: version: {spec.version!r} is used twice for {first.code}")
            continue
        seen.add(spec.version)
        version_origin = dict(origin)
        candidate = _merge(previous, {**spec.changes, "version": spec.version}, version_origin, path)
        try:
            municipality = Municipality.model_validate(candidate)
        except ValidationError as exc:
            problems.extend(_located(exc, version_origin, path))
            continue
        for key in spec.transition:
            try:
                municipality.rule(key)
            except KeyError:
                problems.append(f"{path}: transition.{key}: not a rule key of {first.code}")
        previous = candidate
        stamp = _stamp(spec.version, candidate)
        later.append(RuleVersion(spec.version, stamp, spec.effective_from, municipality, dict(spec.transition),
                                 spec.note, path))  # fmt: skip
    return later
