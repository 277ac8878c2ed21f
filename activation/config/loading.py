"""Loading a config directory: read, deep-merge and validate the YAML, naming the file behind each error."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from activation.config.merging import located, mark, read_yaml
from activation.config.municipality import Municipality, RuleSet
from activation.config.national import NationalVersion, baseline_version
from activation.config.rulebook import ConfigError, RuleBook, RuleVersion
from activation.config.timeline import municipal_history, national_versions

ENV_CONFIG_DIR = "ACTIVATION_CONFIG_DIR"
# This module is activation/config/loading.py; the bundled YAML lives in the top-level config/.
DEFAULT_CONFIG_DIR = Path(__file__).resolve().parent.parent.parent / "config"


def config_dir(explicit: str | Path | None = None) -> Path:
    """Return the config directory: the argument, else $ACTIVATION_CONFIG_DIR, else the bundled one."""
    chosen = explicit or os.environ.get(ENV_CONFIG_DIR) or DEFAULT_CONFIG_DIR
    return Path(chosen)


def load(directory: str | Path | None = None) -> RuleBook:
    """Load, merge and validate every rule set in a config directory."""
    root = config_dir(directory)
    problems: list[str] = []
    if not root.is_dir():
        raise ConfigError([f"{root}: config directory not found (set {ENV_CONFIG_DIR} or --config-dir)"])
    national: dict[str, tuple[Path, dict[str, Any]]] = {}
    timelines: dict[str, list[NationalVersion]] = {}
    broken: set[str] = set()
    for path in sorted((root / "national").glob("*.yaml")):
        data = read_yaml(path, problems)
        if data is None:
            broken.add(path.stem.lower())
            continue
        first, meta_problems = baseline_version(path.stem.lower(), path, data)  # takes the act's metadata out
        problems.extend(meta_problems)
        national[path.stem.lower()] = (path, data)
        origin: dict[tuple[str, ...], Path] = {}
        mark(data, origin, path)
        try:
            RuleSet.model_validate(data)
        except ValidationError as exc:
            problems.extend(located(exc, origin, path))
            broken.add(path.stem.lower())
            continue
        timelines[path.stem.lower()] = [first, *national_versions(root, first, data, problems)]
    municipalities: dict[str, Municipality] = {}
    versions: dict[str, str] = {}
    history: dict[str, tuple[RuleVersion, ...]] = {}
    proposed: dict[str, tuple[RuleVersion, ...]] = {}
    files = sorted((root / "municipalities").glob("*.yaml"))
    if not files:
        problems.append(f"{root / 'municipalities'}: no municipality files (*.yaml)")
    for path in files:
        data = read_yaml(path, problems)
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
        over_time, laid_over = municipal_history(root, (base, base_path), timelines[base_name][1:], (data, path),
                                                 problems)  # fmt: skip
        if not over_time:
            continue
        municipality = over_time[0].municipality
        municipalities[municipality.code] = municipality
        versions[municipality.code] = over_time[0].stamp
        history[municipality.code] = over_time
        proposed[municipality.code] = laid_over
    if problems:
        # A mistake in a baseline shows once per municipality that extends it: report it once.
        raise ConfigError(list(dict.fromkeys(problems)))
    return RuleBook(root, municipalities, versions, history, proposed, {k: tuple(v) for k, v in timelines.items()})
