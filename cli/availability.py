"""Caseworkers' meeting hours: `activation availability set|show|absence|absence-remove|propose`."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import typer

from cli.common import JsonOpt, NowOpt, UserError, app, console, emit_json, parse_time, runtime

availability_app = typer.Typer(
    help="When caseworkers hold meetings: weekly hours, slot length, a daily cap, absences.", no_args_is_help=True
)
app.add_typer(availability_app, name="availability")

UserArg = Annotated[str, typer.Argument(help="The caseworker's username, e.g. cw-01.")]


def _day(text: str, name: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise UserError(f"malformed {name} {text!r}; give a date as YYYY-MM-DD, e.g. 2026-12-21") from None


def _hours(items: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in items:
        day, sep, windows = item.partition("=")
        if not sep or not windows.strip():
            raise UserError(f"malformed hours {item!r}; write DAY=HH:MM-HH:MM[,HH:MM-HH:MM], e.g. mon=09:00-12:00")
        found[day.strip().lower()] = windows.strip()
    return found


def _shown(username: str, hours: Any) -> dict[str, Any]:
    from activation.availability import format_hours

    a = hours.availability
    return {
        "username": username,
        "hours": format_hours(a.hours) if a else {},
        "slot_minutes": a.slot_minutes if a else None,
        "max_per_day": a.max_per_day if a else None,
        "absences": [
            {"id": x.id, "kind": x.kind, "first": x.first.isoformat(), "last": x.last.isoformat()}
            for x in (a.absences if a else ())
        ],
    }


def _print(shown: dict[str, Any]) -> None:
    if not shown["hours"]:
        console.print(f"{shown['username']}: no meeting hours set; no slot is proposed for them.")
        return
    cap = shown["max_per_day"] or "no cap"
    console.print(f"{shown['username']}: {shown['slot_minutes']}-minute slots, at most {cap} a day")
    for day, windows in shown["hours"].items():
        console.print(f"  {day} {windows}")
    for x in shown["absences"]:
        console.print(f"  away ({x['kind']}, #{x['id']}) {x['first']} to {x['last']}")


@availability_app.command("set")
def set_hours(
    username: UserArg,
    hours: Annotated[list[str], typer.Option(help="DAY=HH:MM-HH:MM[,...], once per weekday, e.g. mon=09:00-12:00.")],
    slot: Annotated[int, typer.Option(help="Minutes per meeting slot (15-240).")] = 60,
    max_per_day: Annotated[int | None, typer.Option(help="At most this many meetings a day (default: no cap).")] = None,
    by: Annotated[str, typer.Option(help="Who sets them (username).")] = "operations",
    now: NowOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Set a caseworker's weekly meeting hours, slot length and daily cap (replacing the earlier ones)."""
    from activation import meeting_hours

    moment = parse_time(now)
    rt = runtime()
    meeting_hours.set_meeting_hours(rt.store, None, username, _hours(hours), slot, max_per_day, moment, by=by)
    shown = _shown(username, meeting_hours.meeting_hours(rt.store, None, username, moment))
    if as_json:
        emit_json(shown)
    else:
        _print(shown)


@availability_app.command("show")
def show(username: UserArg, now: NowOpt = None, as_json: JsonOpt = False) -> None:
    """Show a caseworker's meeting hours and the absences still to come."""
    from activation import meeting_hours

    rt = runtime()
    shown = _shown(username, meeting_hours.meeting_hours(rt.store, None, username, parse_time(now)))
    if as_json:
        emit_json(shown)
    else:
        _print(shown)


@availability_app.command("absence")
def absence(
    username: UserArg,
    kind: Annotated[str, typer.Argument(help="holiday, sickness or course.")],
    first: Annotated[str, typer.Argument(help="First day away, YYYY-MM-DD.")],
    last: Annotated[str | None, typer.Argument(help="Last day away, YYYY-MM-DD (default: the first).")] = None,
    by: Annotated[str, typer.Option(help="Who records it (username).")] = "operations",
    now: NowOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record whole days a caseworker holds no meetings."""
    from activation import meeting_hours

    start = _day(first, "first day")
    end = _day(last, "last day") if last else start
    rt = runtime()
    added = meeting_hours.add_absence(rt.store, None, username, kind, start, end, parse_time(now), by=by)
    if as_json:
        emit_json(added)
        return
    console.print(f"{username} is away ({added.kind}, #{added.id}) {added.first} to {added.last}.")


@availability_app.command("absence-remove")
def absence_remove(
    username: UserArg,
    absence_id: Annotated[int, typer.Argument(help="The absence's number, as `availability show` lists it.")],
    now: NowOpt = None,
) -> None:
    """Remove one of a caseworker's absences."""
    from activation import meeting_hours

    rt = runtime()
    meeting_hours.remove_absence(rt.store, None, username, absence_id, parse_time(now))
    console.print(f"Removed absence #{absence_id} of {username}.")


@availability_app.command("propose")
def propose(
    todo_id: Annotated[str, typer.Argument(help="The meeting to-do, e.g. c-7k2m9qxa.0.")],
    now: NowOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show the earliest free slot inside a meeting to-do's deadline: its caseworker's, else the team's."""
    from activation import meeting_hours

    rt = runtime()
    slot = meeting_hours.proposed_slot(rt.store, rt.rules, None, todo_id, parse_time(now))
    if as_json:
        emit_json({"slot": slot})
        return
    if slot is None:
        console.print(f"No free slot before {todo_id}'s deadline: the meeting is at risk.")
        return
    console.print(f"{slot.starts_at:%a %d %b %Y %H:%M}-{slot.ends_at:%H:%M} with {slot.username}")
