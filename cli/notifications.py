"""Messages to other systems: `notifications list/retry/send`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from cli.common import (
    JsonOpt,
    LimitOpt,
    MunicipalityOpt,
    NowOpt,
    UserError,
    console,
    emit_json,
    known_municipality,
    local_time,
    notifications_app,
    parse_time,
    prefect_env,
    runtime,
)

ReceiverOpt = Annotated[str | None, typer.Option(help="Only this receiver (its name in the config).")]


def _outbox(municipality: str | None) -> Any:
    from activation.adapters.outbox import Outbox

    return Outbox(known_municipality(municipality).engine)


@notifications_app.command("list")
def notifications_list(
    state: Annotated[str | None, typer.Option(help="Only this state: pending, delivered or dead.")] = None,
    municipality: MunicipalityOpt = None,
    receiver: ReceiverOpt = None,
    limit: LimitOpt = 100,
    as_json: JsonOpt = False,
) -> None:
    """Show deliveries per receiver and state, then the deliveries (soonest next attempt first)."""
    from activation.adapters.outbox import STATES

    if state and state not in STATES:
        raise UserError(f"unknown state {state!r}; use {', '.join(STATES)}")
    code = municipality.lower() if municipality else None
    outbox = _outbox(code)
    rows = [
        {
            "event_id": d.event_id,
            "kind": d.kind,
            "municipality": d.municipality,
            "receiver": d.receiver,
            "channel": d.channel,
            "state": d.state,
            "attempts": d.attempts,
            "next_attempt_at": d.next_attempt_at.isoformat() if d.state == "pending" else None,
            "delivered_at": d.delivered_at.isoformat() if d.delivered_at else None,
            "last_error": d.last_error,
        }
        for d in outbox.deliveries(state, code, receiver, limit)
    ]
    summary = {"counts": outbox.counts(code, receiver), "deliveries": rows}
    if as_json:
        emit_json(summary)
        return
    counts = summary["counts"]
    console.print(", ".join(f"{n} {name}" for name, n in counts.items()))
    if not rows:
        return
    table = Table("event", "municipality", "receiver", "state", "attempts", "next attempt", "last error")
    for r in rows:
        next_at = local_time(datetime.fromisoformat(r["next_attempt_at"])) if r["next_attempt_at"] else ""
        table.add_row(
            r["event_id"], r["municipality"], r["receiver"], r["state"], str(r["attempts"]), next_at, r["last_error"]
        )
    console.print(table)
    if counts["dead"]:
        console.print("Dead letters are sent again after `activation notifications retry`.")


@notifications_app.command("retry")
def notifications_retry(
    municipality: MunicipalityOpt = None,
    receiver: ReceiverOpt = None,
    now: NowOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Put dead letters back to pending with a fresh set of attempts; the next deliver run sends them."""
    code = municipality.lower() if municipality else None
    count = _outbox(code).retry_dead(parse_time(now), code, receiver)
    if as_json:
        emit_json({"retried": count, "municipality": code, "receiver": receiver})
        return
    console.print(f"{count} dead letter(s) will be sent again by the next deliver run (or `notifications send`).")


@notifications_app.command("send")
def notifications_send(
    now: NowOpt = None,
    max_messages: Annotated[int, typer.Option("--max", help="Send at most this many in this pass.", min=1)] = 2000,
    batch_size: Annotated[int, typer.Option(help="Deliveries claimed per batch.", min=1)] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Run one deliver pass in this process: fan new events out, send due deliveries, print the counts."""
    rt = runtime()
    prefect_env()
    from activation.adapters.outbox import Outbox
    from tasks.notify import deliver_pass

    result = deliver_pass(Outbox(rt.engine), rt.rules, parse_time(now), max_messages, batch_size)
    if as_json:
        emit_json(result)
        return
    console.print(
        f"{result['events']} new event(s) -> {result['deliveries']} delivery(ies); sent {result['claimed']}:"
        f" {result['delivered']} delivered, {result['retried']} to retry, {result['dead']} dead"
    )
