"""Deliveries of outbox events to other systems: fan-out, exclusive claims, retries and dead letters.

The store writes one outbox row per event in the transaction of the change (see sql_rows.
add_to_outbox). Here:

* `dispatch` turns undispatched outbox rows into one delivery per subscribed receiver
  (ON CONFLICT DO NOTHING, so a repeated dispatch adds nothing) and marks them dispatched;
* `claim` takes due pending deliveries whose lease is free or has lapsed, sets a lease and counts the
  attempt in one UPDATE ... RETURNING (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite's write lock
  serialises), so two workers never take the same delivery and a dead worker's are taken again once
  its lease lapses;
* `mark_delivered` / `mark_failed` record the outcome (a delivered row is never claimed again);
  `retry_dead` gives dead letters a fresh set of attempts.

Each method is its own short transaction: nothing is held open while a receiver is called.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, bindparam, func, or_, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite

from activation.adapters import tables as t
from activation.adapters.db import reading
from activation.delivery import Delivery, DispatchReport, Failure
from activation.notifications import subscribers

if TYPE_CHECKING:
    from activation.config import Receiver

STATES = ("pending", "delivered", "dead")
_d = t.deliveries
_o = t.outbox


def _insert(conn: Connection, table: Any) -> Any:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def _lease_free(now: datetime) -> Any:
    return or_(_d.c.lease_until.is_(None), _d.c.lease_until <= now)


def _delivery(row: Any, kind: str, payload: dict[str, Any] | None = None) -> Delivery:
    return Delivery(
        event_id=row.event_id,
        receiver=row.receiver,
        municipality=row.municipality,
        channel=row.channel,
        kind=kind,
        state=row.state,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_error=row.last_error,
        delivered_at=row.delivered_at,
        payload=payload,
    )


_COLUMNS = (
    _d.c.event_id,
    _d.c.receiver,
    _d.c.municipality,
    _d.c.channel,
    _d.c.state,
    _d.c.attempts,
    _d.c.next_attempt_at,
    _d.c.last_error,
    _d.c.delivered_at,
)


class Outbox:
    """The DeliveryQueue of activation.delivery on a SQLAlchemy engine (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.postgres = engine.dialect.name == "postgresql"

    def dispatch(
        self, receivers: Mapping[str, Mapping[str, Receiver]], now: datetime, limit: int = 1000
    ) -> DispatchReport:
        """Fan up to limit undispatched events out to the receivers of their municipality that subscribe.

        `receivers` maps a municipality code to its receivers by name. An event nobody subscribes to
        is marked dispatched all the same: a receiver configured later hears of later events only.
        """
        query = (
            select(_o.c.id, _o.c.kind, _o.c.municipality)
            .where(_o.c.dispatched_at.is_(None))
            .order_by(_o.c.created_at, _o.c.id)
            .limit(limit)
        )
        if self.postgres:
            query = query.with_for_update(skip_locked=True)
        with self.engine.begin() as conn:
            events = conn.execute(query).all()
            if not events:
                return DispatchReport()
            rows = [
                {
                    "event_id": e.id,
                    "receiver": name,
                    "municipality": e.municipality,
                    "channel": receivers[e.municipality][name].channel,
                    "state": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
                for e in events
                for name in subscribers(receivers.get(e.municipality, {}), e.kind)
            ]
            created = 0
            if rows:
                # RETURNING, not rowcount: psycopg reports -1 for INSERT ... ON CONFLICT DO NOTHING.
                stmt = _insert(conn, _d).on_conflict_do_nothing().returning(_d.c.event_id)
                created = len(conn.execute(stmt, rows).all())
            conn.execute(
                update(_o)
                .where(_o.c.id.in_([e.id for e in events]), _o.c.dispatched_at.is_(None))
                .values(dispatched_at=now)
            )
        return DispatchReport(events=len(events), deliveries=created)

    def claim(self, now: datetime, limit: int, lease: timedelta) -> list[Delivery]:
        """Take up to limit due pending deliveries for `lease`, counting the attempt; no one else gets them."""
        due = (
            select(_d.c.event_id, _d.c.receiver)
            .where(_d.c.state == "pending", _d.c.next_attempt_at <= now, _lease_free(now))
            .order_by(_d.c.next_attempt_at, _d.c.event_id, _d.c.receiver)
            .limit(limit)
        )
        if self.postgres:
            due = due.with_for_update(skip_locked=True)
        # Materialised, so the batch is chosen once: inlined, PostgreSQL may run the LIMIT subquery
        # again for every row of a nested-loop semi-join and take more than limit rows.
        chosen = due.cte("chosen").prefix_with("MATERIALIZED", dialect="postgresql")
        with self.engine.begin() as conn:
            rows = conn.execute(
                update(_d)
                # The conditions again: on PostgreSQL a row another worker took meanwhile is re-checked.
                .where(
                    tuple_(_d.c.event_id, _d.c.receiver).in_(select(chosen.c.event_id, chosen.c.receiver)),
                    _d.c.state == "pending",
                    _lease_free(now),
                )
                .values(lease_until=now + lease, attempts=_d.c.attempts + 1)
                .returning(*_COLUMNS)
            ).all()
            if not rows:
                return []
            events = {
                r.id: r
                for r in conn.execute(
                    select(_o.c.id, _o.c.kind, _o.c.payload).where(_o.c.id.in_({r.event_id for r in rows}))
                )
            }
        claimed = [_delivery(r, events[r.event_id].kind, events[r.event_id].payload) for r in rows]
        return sorted(claimed, key=lambda d: (d.next_attempt_at, d.event_id, d.receiver))

    def mark_delivered(self, keys: Sequence[tuple[str, str]], now: datetime) -> int:
        """Record (event id, receiver) deliveries as accepted by their receiver; they are never sent again."""
        if not keys:
            return 0
        with self.engine.begin() as conn:
            conn.execute(
                update(_d)
                .where(
                    _d.c.event_id == bindparam("b_event"),
                    _d.c.receiver == bindparam("b_receiver"),
                    _d.c.state == "pending",
                )
                .values(state="delivered", delivered_at=now, lease_until=None, last_error=None),
                [{"b_event": e, "b_receiver": r} for e, r in keys],
            )
        return len(keys)

    def mark_failed(self, failures: Sequence[Failure], now: datetime) -> int:
        """Release failed deliveries to their next attempt, or make them dead letters; return how many died."""
        if not failures:
            return 0
        with self.engine.begin() as conn:
            conn.execute(
                update(_d)
                .where(
                    _d.c.event_id == bindparam("b_event"),
                    _d.c.receiver == bindparam("b_receiver"),
                    _d.c.state == "pending",
                )
                .values(
                    state=bindparam("b_state"),
                    next_attempt_at=bindparam("b_next", type_=t.UTCDateTime()),
                    lease_until=None,
                    last_error=bindparam("b_error"),
                ),
                [
                    {
                        "b_event": f.event_id,
                        "b_receiver": f.receiver,
                        "b_state": "pending" if f.next_attempt_at else "dead",
                        "b_next": f.next_attempt_at or now,
                        "b_error": f.error[:2000],
                    }
                    for f in failures
                ],
            )
        return sum(1 for f in failures if f.next_attempt_at is None)

    def deliveries(
        self,
        state: str | None = None,
        municipality: str | None = None,
        receiver: str | None = None,
        limit: int = 100,
    ) -> list[Delivery]:
        """Return deliveries, oldest next attempt first, optionally of one state, municipality, receiver."""
        query = select(*_COLUMNS, _o.c.kind).join(_o, _o.c.id == _d.c.event_id)
        query = _filtered(query, state, municipality, receiver)
        with reading(self.engine) as conn:
            rows = conn.execute(query.order_by(_d.c.next_attempt_at, _d.c.event_id).limit(limit)).all()
        return [_delivery(r, r.kind) for r in rows]

    def dead_letters(
        self, municipality: str | None = None, receiver: str | None = None, limit: int = 100
    ) -> list[Delivery]:
        """Return deliveries that ran out of attempts (or were refused for good)."""
        return self.deliveries("dead", municipality, receiver, limit)

    def retry_dead(self, now: datetime, municipality: str | None = None, receiver: str | None = None) -> int:
        """Give dead letters a fresh set of attempts, due at once; return how many."""
        with self.engine.begin() as conn:
            query = update(_d).where(_d.c.state == "dead")
            if municipality:
                query = query.where(_d.c.municipality == municipality)
            if receiver:
                query = query.where(_d.c.receiver == receiver)
            rows = conn.execute(
                query.values(state="pending", attempts=0, next_attempt_at=now, lease_until=None).returning(
                    _d.c.event_id
                )
            ).all()
        return len(rows)

    def counts(self, municipality: str | None = None, receiver: str | None = None) -> dict[str, int]:
        """Return how many deliveries are in each state (every state listed), and undispatched events."""
        query = _filtered(select(_d.c.state, func.count()).group_by(_d.c.state), None, municipality, receiver)
        with reading(self.engine) as conn:
            found = {r[0]: int(r[1]) for r in conn.execute(query)}
            undispatched = select(func.count()).select_from(_o).where(_o.c.dispatched_at.is_(None))
            if municipality:
                undispatched = undispatched.where(_o.c.municipality == municipality)
            waiting = int(conn.execute(undispatched).scalar_one())
        return {**{s: found.get(s, 0) for s in STATES}, "undispatched": waiting}

    def counts_by_receiver(self) -> list[dict[str, Any]]:
        """Return per municipality and receiver how many deliveries are in each state."""
        query = select(_d.c.municipality, _d.c.receiver, _d.c.state, func.count()).group_by(
            _d.c.municipality, _d.c.receiver, _d.c.state
        )
        table: dict[tuple[str, str], dict[str, Any]] = {}
        with reading(self.engine) as conn:
            for m, r, state, n in conn.execute(query):
                entry = table.setdefault((m, r), {"municipality": m, "receiver": r, **dict.fromkeys(STATES, 0)})
                entry[state] = int(n)
        return [table[k] for k in sorted(table)]


def _filtered(query: Any, state: str | None, municipality: str | None, receiver: str | None) -> Any:
    if state:
        query = query.where(_d.c.state == state)
    if municipality:
        query = query.where(_d.c.municipality == municipality)
    if receiver:
        query = query.where(_d.c.receiver == receiver)
    return query
