"""Set-up and rules: `init`, `journey` and `config validate/show/versions/diff/apply`."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from rich.table import Table

from activation import journey
from activation.adapters.db import database_url
from activation.config import ConfigError
from cli.common import JsonOpt, NowOpt, app, config_app, console, emit_json, err, parse_time, runtime, safe_url


@app.command()
def init(as_json: JsonOpt = False) -> None:
    """Create or upgrade the database and check the configuration."""
    from activation.adapters.db import current_revision, head_revision, make_engine, migrate
    from activation.config import load

    rules = load()
    engine = make_engine()
    applied = migrate(engine)
    result: dict[str, Any] = {
        "database": safe_url(database_url()),
        "schema": current_revision(engine),
        "migrated": applied,
        "head": head_revision(),
        "config_dir": str(rules.directory),
        "municipalities": sorted(rules.municipalities),
    }
    engine.dispose()
    if as_json:
        emit_json(result)
        return
    console.print(
        f"[green]Database ready[/] at {result['database']} (schema {result['schema']}{', upgraded' if applied else ''})"
    )
    console.print(f"Config {result['config_dir']}: {', '.join(result['municipalities'])}")


@config_app.command("validate")
def config_validate(as_json: JsonOpt = False) -> None:
    """Validate every national and municipality rule set; exit 1 on any error."""
    from activation.config import config_dir, load

    try:
        rules = load()
    except ConfigError as exc:
        if as_json:
            emit_json({"ok": False, "config_dir": str(config_dir()), "problems": exc.problems})
        else:
            for problem in exc.problems:
                err.print(f"[red]error[/] {problem}", highlight=False, soft_wrap=True)
            err.print(f"{len(exc.problems)} problem(s) in {config_dir()}")
        raise typer.Exit(1) from None
    summary = {code: rules.version(code) for code in sorted(rules.municipalities)}
    if as_json:
        emit_json({"ok": True, "config_dir": str(rules.directory), "municipalities": summary})
        return
    console.print(f"[green]ok[/] {rules.directory}: {len(summary)} municipalities")
    for code, version in summary.items():
        console.print(f"  {code:<12} {version}")


@config_app.command("show")
def config_show(municipality: str, now: NowOpt = None, as_json: JsonOpt = False) -> None:
    """Show the deadlines in force for a municipality and where each comes from."""
    from activation.config import load

    rules = load()
    # The rules in force now (the municipality's own over the law of today); --now picks another day.
    in_force = rules.in_force(rules.municipality(municipality).code, parse_time(now))
    m = in_force.municipality
    rows: list[dict[str, Any]] = [
        {
            "deadline": key,
            "due": str(rule.due),
            "calendar": rule.calendar,
            "remind_before": [str(d) for d in rule.remind_before],
            "escalate_after": [{"after": str(s.after), "notify": s.notify} for s in rule.escalate_after],
            "source": rule.source,
            "local_choice": rule.local_choice,
        }
        for key, rule in m.deadlines.items()
    ]
    if as_json:
        emit_json({"municipality": m.code, "name": m.name, "version": in_force.stamp, "deadlines": rows})
        return
    table = Table(title=f"{m.name} ({in_force.stamp})")
    for col in ("deadline", "due", "reminders", "escalations", "source"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(
            r["deadline"],
            r["due"] + (" *" if r["local_choice"] else ""),
            ", ".join(r["remind_before"]),
            ", ".join(f"{s['after']} -> {s['notify']}" for s in r["escalate_after"]),
            r["source"],
        )
    console.print(table)
    console.print("* local choice: the sources give no number")


@config_app.command("versions")
def config_versions(
    municipality: Annotated[str, typer.Argument(help="A municipality (allerod) or a national baseline (dk, se).")],
    as_json: JsonOpt = False,
) -> None:
    """List the versions of the rules: from when each applies, its status and sources, changes and policies."""
    from activation.rule_change import changed_rules

    rt = runtime()
    if municipality.lower() in rt.rules.national and municipality.lower() not in rt.rules.municipalities:
        _national_versions(rt.rules, municipality.lower(), as_json)
        return
    code = rt.rules.municipality(municipality).code
    history = (*rt.rules.history.get(code, ()), *rt.rules.proposed.get(code, ()))
    with rt.store.reads() as reads:
        applied = {c.version: c for c in reads.rule_changes(code)}
    rows = []
    for n, v in enumerate(history):
        changed = changed_rules(rt.rules.before(v).municipality, v.municipality) if n else []
        rows.append(
            {
                "version": v.version,
                "stamp": v.stamp,
                "effective_from": v.effective_from.isoformat() if v.effective_from else None,
                "level": "national" if v.national else "municipal",
                "status": v.status,
                "changes": changed,
                "policies": {k: v.policy(k) for k in changed},
                "overridden_here": list(v.shadowed),
                "note": v.note,
                "file": str(v.path),
                "applied_at": applied[v.version].applied_at.isoformat() if v.version in applied else None,
                "moved": applied[v.version].moved if v.version in applied else None,
            }
        )
    if as_json:
        emit_json(rows)
        return
    table = Table("version", "from", "status", "changes (policy)", "applied to running cases", "note")
    for r in rows:
        changes = ", ".join(f"{k} ({p})" for k, p in r["policies"].items()) or "–"
        if r["overridden_here"]:
            changes += f"; overridden here: {', '.join(r['overridden_here'])}"
        done = f"{r['applied_at']} ({r['moved']} moved)" if r["applied_at"] else "–"
        status = r["status"].replace("_", " ") + (" (law)" if r["level"] == "national" else "")
        table.add_row(r["version"], r["effective_from"] or "always", status, changes, done, r["note"] or "")
    console.print(table)


def _national_versions(rules: Any, baseline: str, as_json: bool) -> None:
    rows = [
        {
            "version": v.version,
            "title": v.title,
            "effective_from": v.effective_from.isoformat() if v.effective_from else None,
            "status": v.status,
            "sources": [c.model_dump(mode="json", exclude_none=True) for c in v.sources],
            "verify": list(v.verify),
            "pending": [p.model_dump(mode="json") for p in v.pending],
            "transition": v.transition,
            "overridden_by": {code: list(keys) for code, keys in v.shadowed.items() if keys},
            "note": v.note,
            "file": str(v.path),
        }
        for v in rules.national[baseline]
    ]
    if as_json:
        emit_json(rows)
        return
    table = Table(title=f"{baseline}: national versions (the law over time)")
    for col in ("version", "from", "status", "title and sources", "not yet enforced / to verify"):
        table.add_column(col, overflow="fold")  # a source's URL is shown whole
    for r in rows:
        cited = "\n".join(
            f"- {c['title']} {c['url']}" + (f" ({c['published']})" if c.get("published") else "") for c in r["sources"]
        )
        notes = [f"pending {p['pending_kind']}: {p['rule']}: {p['value']}" for p in r["pending"]]
        notes += [f"verify: {text}" for text in r["verify"]]
        notes += [f"overridden by {code}: {', '.join(keys)}" for code, keys in r["overridden_by"].items()]
        table.add_row(
            r["version"], r["effective_from"] or "baseline", r["status"].replace("_", " "),
            f"{r['title']}\n{cited}", "\n".join(notes) or "–",
        )  # fmt: skip
    console.print(table)


def _print_change(summary: dict[str, Any]) -> None:
    verb = "Moved" if summary["applied"] else "Would move"
    console.print(
        f"{summary['municipality']} {summary['version']} (from {summary['effective_from']}):"
        f" changes {', '.join(f'{k} ({p})' for k, p in summary['policies'].items()) or 'nothing'}"
    )
    console.print(
        f"{verb} {summary['moved']} open deadline(s): {summary['earlier']} earlier, {summary['later']} later"
        + (
            f" (by {summary['hours_min']} to {summary['hours_max']} h, median {summary['hours_median']} h)"
            if summary["moved"]
            else ""
        )
    )
    for what in ("rule", "stage", "team"):
        per = summary[f"moved_per_{what}"]
        if per:
            console.print(f"  per {what}: " + ", ".join(f"{k} {v}" for k, v in sorted(per.items())))
    if summary["fire_at_once_total"]:
        for kind, teams in summary["fire_at_once"].items():
            console.print(f"  {kind} due at once: " + ", ".join(f"{k} {v}" for k, v in sorted(teams.items())))
    else:
        console.print("  no reminder or escalation falls due at once")
    if summary["kept"]:
        console.print(
            "  left as they are (keep / not_started): " + ", ".join(f"{k} {v}" for k, v in summary["kept"].items())
        )
    if summary["paused"]:
        console.print(
            "  stopped by a pause (recomputed when it ends): "
            + ", ".join(f"{k} {v}" for k, v in summary["paused"].items())
        )
    if summary["already_applied"]:
        console.print(f"  already on this version: {summary['already_applied']}")


@config_app.command("diff")
def config_diff(
    municipality: str,
    version: Annotated[str, typer.Argument(help="The proposed version, e.g. karlskrona-2026.2.")],
    now: NowOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Preview a rule version against the live database: what moves, by how much, what fires at once."""
    from activation.rule_change import preview_version

    rt = runtime()
    codes = _members(rt.rules, municipality)
    summaries = [preview_version(rt.store, rt.rules, code, version, parse_time(now)).summary() for code in codes]
    if as_json:
        emit_json(summaries[0] if codes == [municipality] else summaries)
        return
    for summary in summaries:
        _print_change(summary)
    console.print("Nothing was written. `activation config apply` applies exactly this.")


@config_app.command("apply")
def config_apply(
    municipality: str,
    version: Annotated[str, typer.Argument(help="The version to apply to running cases.")],
    by: Annotated[str, typer.Option(help="Who applies it (recorded).")] = "manager",
    now: NowOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Apply a rule version to running cases as `config diff` showed: recompute or keep, per its policies."""
    from activation.rule_change import apply_version

    rt = runtime()
    codes = _members(rt.rules, municipality)
    when = parse_time(now)
    # A national version applies to every municipality extending it; a bill or a date not yet reached is
    # refused at the first one, before anything is written (the status and the date are the law's).
    summaries = [apply_version(rt.store, rt.rules, code, version, when, by, via="cli").summary() for code in codes]
    if as_json:
        emit_json(summaries[0] if codes == [municipality] else summaries)
        return
    for summary in summaries:
        _print_change(summary)


def _members(rules: Any, name: str) -> list[str]:
    """Return the municipality named, or every municipality extending a national baseline ("dk", "se")."""
    from activation.rule_change import national_members

    if name.lower() in rules.municipalities:
        return [name]
    return national_members(rules, name) if name.lower() in rules.national else [rules.municipality(name).code]


@app.command("journey")
def show_journey(
    mermaid: Annotated[bool, typer.Option("--mermaid", help="Print the Mermaid diagram.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Show the citizen journey: stages, to-dos, deadline keys and outcomes."""
    if mermaid:
        sys.stdout.write(journey.mermaid())
        return
    stages: list[dict[str, Any]] = [
        {
            "stage": s.name,
            "todo": s.todo.kind if s.todo else None,
            "role": s.todo.role if s.todo else None,
            "deadline": s.deadline,
            "outcomes": {o: go.to for o, go in s.outcomes.items()},
        }
        for s in journey.JOURNEY
    ]
    if as_json:
        emit_json(stages)
        return
    table = Table(title="Citizen journey")
    for col in ("stage", "to-do (role)", "deadline key", "outcomes -> next stage"):
        table.add_column(col)
    for s in stages:
        table.add_row(
            s["stage"],
            f"{s['todo']} ({s['role']})" if s["todo"] else "",
            s["deadline"] or "",
            ", ".join(f"{o} -> {t}" for o, t in s["outcomes"].items()),
        )
    console.print(table)
