"""A municipality's rules over time: national versions (the law) and its own versions, in date order.

Precedence at a date D, lowest first (each layer deep-merges over the ones below it):

1. the national baseline (``national/dk.yaml``);
2. the national versions in effect at D (adopted or in force, effective on or before D), oldest first;
3. the municipality file (``municipalities/<code>.yaml``);
4. the municipality's own versions in effect at D, oldest first.

So a municipality keeps its overrides on top of the law as it changes: where a national version
changes a rule the municipality overrides, the municipality's rule applies and the national change
is listed as *shadowed* for it (``activation config versions <code>`` and ``config versions dk``).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from activation.config.merging import located, mark, merge, read_yaml, stamp
from activation.config.municipality import Municipality, RuleSet
from activation.config.national import NationalVersion, NationalVersionFile, from_file, overridden_keys
from activation.config.rulebook import RuleVersion, VersionFile

Layer = tuple[dict[str, Any], Path]


def national_versions(
    root: Path, first: NationalVersion, base: dict[str, Any], problems: list[str]
) -> list[NationalVersion]:
    """Load national/<baseline>/*.yaml in date order, each checked merged over the versions before it."""
    found: list[NationalVersion] = []
    seen = {first.version}
    for path in sorted((root / "national" / first.baseline).glob("*.yaml")):
        data = read_yaml(path, problems)
        if data is None:
            continue
        try:
            spec = NationalVersionFile.model_validate(data)
        except ValidationError as exc:
            problems.extend(located(exc, {}, path))
            continue
        if spec.version in seen:
            problems.append(f"{path}: version: {spec.version!r} is used twice for {first.baseline}")
            continue
        seen.add(spec.version)
        found.append(from_file(first.baseline, spec, path))
    found.sort(key=lambda v: (v.effective_from or date.min, v.version))
    for v in found:
        origin: dict[tuple[str, ...], Path] = {}
        mark(base, origin, first.path)
        merged = base
        for layer in _national_layers(found, v):
            merged = merge(merged, layer[0], origin, layer[1])
        try:
            RuleSet.model_validate({**merged, "version": v.version})
        except ValidationError as exc:
            problems.extend(located(exc, origin, v.path))
    return found


def _national_layers(nationals: list[NationalVersion], upto: NationalVersion) -> list[Layer]:
    """Return the national changes in effect when `upto` takes effect, `upto` included, oldest first."""
    when = upto.effective_from or date.min
    chosen = [v for v in nationals if v.active and v is not upto and (v.effective_from or date.min) <= when]
    return [(v.changes, v.path) for v in [*chosen, upto]]


def municipal_history(
    root: Path,
    base: Layer,
    nationals: list[NationalVersion],
    own: Layer,
    problems: list[str],
) -> tuple[tuple[RuleVersion, ...], tuple[RuleVersion, ...]]:
    """Return a municipality's versions over time and, apart, the proposed national versions laid over them."""
    code = own[1].stem.lower()
    locals_: list[tuple[VersionFile, Path]] = []
    for path in sorted((root / "versions" / code).glob("*.yaml")):
        data = read_yaml(path, problems)
        if data is None:
            continue
        try:
            locals_.append((VersionFile.model_validate(data), path))
        except ValidationError as exc:
            problems.extend(located(exc, {}, path))
    locals_.sort(key=lambda item: item[0].effective_from)
    first = _version(base, [], own, [], None, problems)
    if first is None:
        return (), ()
    history = [first]
    seen = {first.version, *(v.version for v in nationals)}
    events: list[tuple[date, int, NationalVersion | tuple[VersionFile, Path]]] = [
        (v.effective_from, 0, v) for v in nationals if v.active and v.effective_from is not None
    ]
    for spec, path in locals_:
        if spec.version in seen:
            problems.append(f"{path}: version: {spec.version!r} is used twice for {code}")
            continue
        seen.add(spec.version)
        events.append((spec.effective_from, 1, (spec, path)))
    events.sort(key=lambda e: (e[0], e[1]))
    for n, (_, _, event) in enumerate(events):
        upto = [e[2] for e in events[: n + 1]]
        national_upto = [(e.changes, e.path) for e in upto if isinstance(e, NationalVersion)]
        local_upto = [(e[0].changes, e[1]) for e in upto if not isinstance(e, NationalVersion)]
        made = _version(base, national_upto, own, local_upto, event, problems)
        if made is not None:
            history.append(made)
    proposed = []
    for v in nationals:
        if v.active or v.effective_from is None:
            continue
        layers = _national_layers(nationals, v)
        local_upto = [(spec.changes, path) for spec, path in locals_ if spec.effective_from <= v.effective_from]
        made = _version(base, layers, own, local_upto, v, problems)
        if made is not None:
            proposed.append(made)
    return tuple(history), tuple(proposed)


def _version(
    base: Layer,
    national: list[Layer],
    own: Layer,
    local: list[Layer],
    event: NationalVersion | tuple[VersionFile, Path] | None,
    problems: list[str],
) -> RuleVersion | None:
    """Compose the layers in precedence order and validate the result as one version of the rules."""
    origin: dict[tuple[str, ...], Path] = {}
    mark(base[0], origin, base[1])
    merged = base[0]
    for layer in [*national, own, *local]:
        merged = merge(merged, layer[0], origin, layer[1])
    code = own[1].stem.lower()
    merged.setdefault("code", code)
    if merged["code"] != code:
        problems.append(f"{own[1]}: code: {merged['code']!r} must match the file name {own[1].stem!r}")
        return None
    if isinstance(event, NationalVersion):
        name, path, transition, note, status = event.version, event.path, event.transition, event.note, event.status
    elif event is not None:
        spec, path = event
        name, transition, note, status = spec.version, dict(spec.transition), spec.note, "in_force"
    else:
        name, path, transition, note, status = str(merged.get("version", code)), own[1], {}, None, "in_force"
    merged["version"] = name
    try:
        municipality = Municipality.model_validate(merged)
    except ValidationError as exc:
        problems.extend(located(exc, origin, path))
        return None
    for key in transition:
        try:
            municipality.rule(key)
        except KeyError:
            problems.append(f"{path}: transition.{key}: not a rule key of {code}")
    shadowed: tuple[str, ...] = ()
    if isinstance(event, NationalVersion):
        mine: dict[str, Any] = {}
        for layer in [own, *local]:
            mine = merge(mine, layer[0], {}, layer[1])
        shadowed = overridden_keys(event.changes, mine)
        event.shadowed[code] = shadowed
    effective = None
    if isinstance(event, NationalVersion):
        effective = event.effective_from
    elif event is not None:
        effective = event[0].effective_from
    return RuleVersion(name, stamp(name, merged), effective, municipality, dict(transition), note, path, status,
                       event if isinstance(event, NationalVersion) else None, shadowed)  # fmt: skip
