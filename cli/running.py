"""Run the flows: `tick` once, `serve` on a schedule, `deploy` for production workers."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

import typer

from activation import journey
from cli.common import (
    JsonOpt,
    NowOpt,
    UserError,
    app,
    console,
    emit_json,
    err,
    local_time,
    parse_time,
    prefect_env,
    runtime,
)


@app.command()
def tick(
    now: NowOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would happen, write nothing.")] = False,
    batch_size: Annotated[int, typer.Option(help="Cases or alarms per batch.")] = 500,
    retry_parked: Annotated[
        bool, typer.Option("--retry-parked", help="First give steps parked after repeated failures another try.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Run pending flow work (intake, next steps, letters) and the deadline sweep once."""
    at = parse_time(now)
    if dry_run:
        _tick_dry_run(at, as_json)
        return
    rt = runtime()  # migrate and validate before starting Prefect, for a clear error
    if retry_parked:
        with rt.store.transaction() as tx:
            err.print(f"{tx.unpark_steps()} parked step(s) will be tried again.")
    prefect_env()
    from flows.server import running_server

    where = running_server()
    if not as_json:
        err.print(
            f"Running the flows on {where}..."
            if where
            else "Running the flows in this process without Prefect (no server is up; nothing is recorded there)..."
        )
    if where:
        from flows.tick import run_tick

        result = run_tick(at, batch_size)
    else:
        from flows.tick import run_tick_without_prefect

        result = run_tick_without_prefect(at, batch_size)
    if as_json:
        emit_json(result)
        return
    _print_tick(result)


def _print_tick(result: dict[str, dict[str, int]]) -> None:
    i, a, s = result["intake"], result["advance"], result["sweep"]
    console.print(
        f"intake: {i['moved']} application(s) -> {i['todos']} to-do(s), {i['alarms']} reminder/escalation row(s),"
        f" {i.get('letters_rendered', 0)} letter(s)"
    )
    console.print(f"advance: {a['moved']} case(s) moved on -> {a['todos']} to-do(s)")
    failed = i.get("failed", 0) + a.get("failed", 0)
    if failed:
        err.print(
            f"[red]{failed} step(s) could not be applied[/] (see the flow logs); they are retried on the next"
            " tick and parked after 3 failures: `activation tick --dry-run` lists parked steps"
        )
    console.print(
        f"sweep: {s['reminders']} reminder(s), {s['escalations']} escalation(s) fired"
        + (f", {s['skipped_reminders']} stale reminder(s) skipped" if s["skipped_reminders"] else "")
    )


def _tick_dry_run(at: datetime, as_json: bool) -> None:
    rt = runtime()
    with rt.store.transaction() as tx:
        steps = tx.pending_steps(None, 10_000)
        alarms = tx.due_alarms(at, 10_000)
        parked = tx.parked_steps(1_000)
    # A dry run writes nothing: the transaction above only reads, and is rolled back anyway.
    would: dict[str, Any] = {
        "now": at.isoformat(),
        "steps": [{"case_id": s.case_id, "from_stage": s.from_stage, "outcome": s.outcome} for s in steps],
        "parked": [
            {"case_id": s.case_id, "from_stage": s.from_stage, "outcome": s.outcome, "error": s.last_error}
            for s in parked
        ],
        "alarms": [
            {
                "id": a.id,
                "case_id": a.case_id,
                "kind": a.kind
                if not (a.kind == "reminder" and a.deadline_due_at <= at)
                else "reminder (skipped: deadline passed)",
                "notify": a.recipient,
                "rule": a.rule_key,
                "due_at": a.deadline_due_at.isoformat(),
            }
            for a in alarms
        ],
    }
    if as_json:
        emit_json(would)
        return
    console.print(f"Dry run at {local_time(at)}: nothing is written.")
    console.print(f"{len(steps)} case step(s) would be applied:")
    for s in steps[:50]:
        target, todo, _ = journey.next_step(s.from_stage, s.outcome)
        console.print(
            f"  {s.case_id}: {s.from_stage} --{s.outcome}--> {target.name}" + (f" (to-do {todo.kind})" if todo else "")
        )
    if parked:
        console.print(f"[red]{len(parked)} step(s) parked after repeated failures[/] (fix the cause, then re-run):")
        for p in would["parked"][:50]:
            console.print(f"  {p['case_id']}: {p['from_stage']} --{p['outcome']}--> {p['error']}")
    console.print(f"{len(alarms)} alarm(s) would fire:")
    for a in would["alarms"][:50]:
        console.print(f"  {a['case_id']}: {a['kind']} to {a['notify']} ({a['rule']}, due {a['due_at']})")


@app.command()
def serve(
    interval: Annotated[
        int, typer.Option(help="Seconds between runs of intake, the stage flows and notifications.", min=1)
    ] = 60,
    sweep_interval: Annotated[int, typer.Option(help="Seconds between deadline sweeps.", min=1)] = 300,
    server: Annotated[
        bool, typer.Option(help="Run a Prefect server (with its UI) in this process when PREFECT_API_URL is unset.")
    ] = True,
    port: Annotated[int, typer.Option(help="Port of the local Prefect server and UI.")] = 4200,
    web: Annotated[bool, typer.Option(help="Serve the web inbox, console and API.")] = True,
    flows: Annotated[bool, typer.Option(help="Serve the flows (off: the web application alone).")] = True,
    host: Annotated[str, typer.Option(help="Address the web application listens on.")] = "127.0.0.1",
    web_port: Annotated[int, typer.Option(help="Port of the web application.")] = 8000,
    web_workers: Annotated[
        int, typer.Option(help="Processes answering the web application (one per core for heavy API traffic).", min=1)
    ] = 1,
) -> None:
    """Serve the web inbox and run the flows on a schedule, in this process, until stopped (Ctrl-C, SIGTERM)."""
    runtime()
    if not (web or flows):
        raise UserError("nothing to serve: leave --web or --flows on")
    # Prefect's settings go into the environment before anything imports it (flows/server.py).
    prefect_env()
    from flows.serve import serve_all
    from flows.server import ServerError

    api = os.environ.get("PREFECT_API_URL", "").rstrip("/")
    prefect_ui = api.removesuffix("/api") if api else f"http://127.0.0.1:{port}"

    def start_web(status: Callable[[], dict[str, str]] | None) -> Callable[[], None]:
        from web.serve import WebService

        overrides = {"prefect_ui": prefect_ui, "sweep_interval_seconds": sweep_interval}
        service = WebService(host, web_port, overrides, web_workers, status)
        try:
            service.start(err.print)
        except (RuntimeError, OSError) as exc:
            raise UserError(f"{exc}: is port {web_port} in use? Choose --web-port") from None
        workers = f" ({web_workers} processes)" if web_workers > 1 else ""
        err.print(f"Inbox: http://{host}:{web_port}/{workers}  (sign in with a user from `activation user add`)")
        return service.stop

    try:
        serve_all(
            interval=interval,
            sweep_interval=sweep_interval,
            start_server=server,
            port=port,
            start_web=start_web if web else None,
            run_flows=flows,
            say=err.print,
        )
    except ServerError as exc:
        raise UserError(str(exc)) from None
    err.print("Stopped.")


@app.command()
def deploy(
    pool: Annotated[
        str, typer.Option(help="The process work pool the workers poll (created if missing).")
    ] = "activation",
    interval: Annotated[int, typer.Option(help="Seconds between intake/stage runs.", min=1)] = 60,
    sweep_interval: Annotated[int, typer.Option(help="Seconds between deadline sweeps.", min=1)] = 300,
    stage_interval: Annotated[
        int | None, typer.Option(help="Seconds between runs of each stage flow (default: --interval).", min=1)
    ] = None,
    flow_limit: Annotated[
        int, typer.Option(help="At most this many runs of one intake/stage flow at once.", min=1)
    ] = 2,
    sweep_limit: Annotated[int, typer.Option(help="At most this many deadline sweeps at once.", min=1)] = 1,
    pool_limit: Annotated[
        int | None, typer.Option(help="At most this many runs in the whole pool (default: leave as is).", min=1)
    ] = None,
    api_url: Annotated[
        str | None,
        typer.Option("--api-url", help="Prefect API, e.g. http://127.0.0.1:4200/api (default $PREFECT_API_URL)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create the work pool and the deployments (intake, each stage, the sweep) that `prefect worker`s run."""
    runtime()  # migrate and validate the rules before the flows are deployed against this database
    prefect_env()
    if api_url:
        os.environ["PREFECT_API_URL"] = api_url
    if not os.environ.get("PREFECT_API_URL"):
        raise UserError("no Prefect server: set PREFECT_API_URL or --api-url (deploy/production.sh starts one)")
    from flows.deploy import deploy_all

    try:
        result = deploy_all(
            pool, interval, sweep_interval, flow_limit, sweep_limit, pool_limit, err.print, stage_interval
        )
    except RuntimeError as exc:
        raise UserError(str(exc)) from None
    if as_json:
        emit_json(result)
        return
    console.print(
        f"{len(result['deployments'])} deployment(s) in work pool [bold]{pool}[/] ({result['work_pool_state']});"
        f" start workers with: prefect worker start --pool {pool}"
    )
