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
def config_show(municipality: str, as_json: JsonOpt = False) -> None:
    """Show the deadlines in force for a municipality and where each comes from."""
    from activation.config import load

    rules = load()
    m = rules.municipality(municipality)
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
        emit_json({"municipality": m.code, "name": m.name, "version": rules.version(m.code), "deadlines": rows})
        return
    table = Table(title=f"{m.name} ({rules.version(m.code)})")
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
def config_versions(municipality: str, as_json: JsonOpt = False) -> None:
    """List the versions of a municipality's rules: from when each applies, what it changes, and its policies."""
    from activation.rule_change import changed_rules

    rt = runtime()
    history = rt.rules.history.get(rt.rules.municipality(municipality).code, ())
    with rt.store.reads() as reads:
        applied = {c.version: c for c in reads.rule_changes(rt.rules.municipality(municipality).code)}
    rows = []
    for n, v in enumerate(history):
        changed = changed_rules(history[n - 1].municipality, v.municipality) if n else []
        rows.append(
            {
                "version": v.version,
                "stamp": v.stamp,
                "effective_from": v.effective_from.isoformat() if v.effective_from else None,
                "changes": changed,
                "policies": {k: v.policy(k) for k in changed},
                "note": v.note,
                "file": str(v.path),
                "applied_at": applied[v.version].applied_at.isoformat() if v.version in applied else None,
                "moved": applied[v.version].moved if v.version in applied else None,
            }
        )
    if as_json:
        emit_json(rows)
        return
    table = Table("version", "from", "changes (policy)", "applied to running cases", "note")
    for r in rows:
        changes = ", ".join(f"{k} ({p})" for k, p in r["policies"].items()) or "–"
        done = f"{r['applied_at']} ({r['moved']} moved)" if r["applied_at"] else "–"
        table.add_row(r["version"], r["effective_from"] or "always", changes, done, r["note"] or "")
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
    summary = preview_version(rt.store, rt.rules, municipality, version, parse_time(now)).summary()
    if as_json:
        emit_json(summary)
        return
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
    summary = apply_version(rt.store, rt.rules, municipality, version, parse_time(now), by).summary()
    if as_json:
        emit_json(summary)
        return
    _print_change(summary)


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
