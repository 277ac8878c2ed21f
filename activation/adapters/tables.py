"""Database tables (SQLAlchemy Core). Alembic migrations in migrations/ create them."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.sql.expression import false
from sqlalchemy.sql.expression import true as sa_true
from sqlalchemy.types import TypeDecorator

from activation.adapters.availability_tables import availability_tables


class UTCDateTime(TypeDecorator[datetime]):
    """Store aware datetimes as UTC; SQLite has no time zones, so refuse naive ones."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; times must carry a time zone")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

cases = Table(
    "cases",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("municipality", String(64), nullable=False),
    Column("citizen_ref", String(128), nullable=False),
    Column("team", String(64), nullable=False),
    Column("caseworker", String(128)),
    Column("stage", String(32), nullable=False),
    Column("stage_entered_at", UTCDateTime(), nullable=False),
    Column("status", String(16), nullable=False, server_default="open"),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("target_group", String(48), nullable=False, server_default=""),
    Column("obligations_since", UTCDateTime()),
    # One case per citizen per municipality: recording the same application twice is harmless.
    UniqueConstraint("municipality", "citizen_ref", name="uq_cases_citizen"),
)
# A caseworker's cases, the team queue's (caseworker NULL) and the caseload per caseworker, and who
# holds a case looked up from its deadlines, each from an index alone (issue 12: the inbox and the
# team view at 50,000 open cases).
Index("ix_cases_holder", cases.c.municipality, cases.c.caseworker, cases.c.status, cases.c.team, cases.c.id)
Index(
    "ix_cases_access",
    cases.c.id,
    cases.c.municipality,
    cases.c.team,
    cases.c.status,
    cases.c.caseworker,
    cases.c.stage,
)

steps = Table(
    "steps",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", String(32), ForeignKey("cases.id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("from_stage", String(32), nullable=False),
    Column("outcome", String(32), nullable=False),
    Column("todo_id", String(48)),
    Column("occurred_at", UTCDateTime(), nullable=False),
    Column("recorded_by", String(128), nullable=False, server_default="system"),
    Column("applied_at", UTCDateTime()),
    # A step that cannot be applied (its municipality's rules are gone, say) is released with the
    # error; after MAX_STEP_FAILURES it is parked for operations instead of blocking every batch.
    Column("failures", Integer, nullable=False, server_default="0"),
    Column("last_error", Text),
    Column("data", JSON),  # the record filled in with the outcome (assessment, plan, follow-up, exit)
    UniqueConstraint("case_id", "seq", name="uq_steps_case_seq"),
    # An outcome of a to-do is recorded once, whoever clicks twice.
    UniqueConstraint("todo_id", name="uq_steps_todo"),
)
Index("ix_steps_pending", steps.c.applied_at, steps.c.from_stage, steps.c.id)

todos = Table(
    "todos",
    metadata,
    Column("id", String(48), primary_key=True),
    Column("case_id", String(32), ForeignKey("cases.id"), nullable=False),
    Column("step_id", Integer, ForeignKey("steps.id"), nullable=False),
    Column("kind", String(48), nullable=False),
    Column("title", String(200), nullable=False),
    Column("stage", String(32), nullable=False),
    Column("role", String(32), nullable=False),
    Column("assignee", String(128), nullable=False),
    Column("team", String(64), nullable=False),
    Column("outcomes", JSON, nullable=False),
    Column("status", String(16), nullable=False, server_default="open"),
    Column("outcome", String(32)),
    Column("due_at", UTCDateTime(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("completed_at", UTCDateTime()),
    Column("completed_by", String(128)),
    Column("side", Boolean, nullable=False, server_default=false()),  # beside the journey (a wrap-up)
)
# A holder's and a team's to-dos soonest due first; with the id, case and stage, counts and a page in
# any of the inbox's orders are read from the index alone (issue 12).
Index("ix_todos_assignee_status_due", todos.c.assignee, todos.c.status, todos.c.due_at, todos.c.id, todos.c.case_id,
      todos.c.stage)  # fmt: skip
Index("ix_todos_team_status_due", todos.c.team, todos.c.status, todos.c.due_at, todos.c.id, todos.c.case_id,
      todos.c.stage)  # fmt: skip
Index("ix_todos_case", todos.c.case_id)

deadlines = Table(
    "deadlines",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("case_id", String(32), ForeignKey("cases.id"), nullable=False),
    Column("todo_id", String(48), ForeignKey("todos.id")),
    Column("rule_key", String(96), nullable=False),
    Column("config_version", String(64), nullable=False),
    Column("calendar", String(64), nullable=False),
    Column("start_event", String(128), nullable=False),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("due_at", UTCDateTime(), nullable=False),
    Column("status", String(16), nullable=False, server_default="open"),  # open | met | missed
    Column("closed_at", UTCDateTime()),
    Column("explanation", Text, nullable=False),
    # Each pause or resumption makes a new revision (history in deadline_changes); while an
    # open-ended pause lasts, paused_since is set and the deadline's alarms are suspended.
    Column("revision", Integer, nullable=False, server_default="1"),
    Column("paused_since", UTCDateTime()),
)
# A case's open deadlines and obligation periods, from the index alone (issue 12).
Index(
    "ix_deadlines_case",
    deadlines.c.case_id,
    deadlines.c.status,
    deadlines.c.todo_id,
    deadlines.c.due_at,
    deadlines.c.paused_since,
    deadlines.c.id,
)
# To-dos are read with their deadline (deadlines.todo_id): without this a lookup scans every deadline.
# The columns after todo_id serve the open obligation periods (todo_id NULL) soonest due first, with
# what the team view's join needs, from the index alone (issue 12).
Index(
    "ix_deadlines_todo",
    deadlines.c.todo_id,
    deadlines.c.status,
    deadlines.c.due_at,
    deadlines.c.paused_since,
    deadlines.c.case_id,
    deadlines.c.id,
)
Index("ix_deadlines_status_due", deadlines.c.status, deadlines.c.due_at)
# The few clocks a pause has stopped: counts subtract them instead of joining every to-do's deadline.
Index(
    "ix_deadlines_paused",
    deadlines.c.status,
    deadlines.c.todo_id,
    sqlite_where=deadlines.c.paused_since.is_not(None),
    postgresql_where=deadlines.c.paused_since.is_not(None),
)

alarms = Table(
    "alarms",
    metadata,
    # "<deadline>:r1", "<deadline>:e2": the id itself guarantees one row per reminder/escalation step.
    Column("id", String(160), primary_key=True),
    Column("deadline_id", String(128), ForeignKey("deadlines.id"), nullable=False),
    Column("case_id", String(32), nullable=False),
    Column("kind", String(16), nullable=False),  # reminder | escalation
    Column("step", Integer, nullable=False),
    Column("offset_label", String(32), nullable=False),
    Column("notify_role", String(32), nullable=False),
    Column("recipient", String(128), nullable=False),
    Column("fires_at", UTCDateTime(), nullable=False),
    Column("deadline_due_at", UTCDateTime(), nullable=False),
    Column("rule_key", String(96), nullable=False),
    Column("state", String(16), nullable=False, server_default="pending"),  # pending|fired|cancelled|skipped
    Column("fired_at", UTCDateTime()),
    Column("sweep_id", String(32)),
)
Index("ix_alarms_state_fires", alarms.c.state, alarms.c.fires_at)
Index("ix_alarms_deadline", alarms.c.deadline_id)
# Only alarms a sweep has taken: the sweep reads its batch back by sweep id (migration 0012).
Index(
    "ix_alarms_sweep",
    alarms.c.sweep_id,
    sqlite_where=alarms.c.sweep_id.is_not(None),
    postgresql_where=alarms.c.sweep_id.is_not(None),
)

notifications = Table(
    "notifications",
    metadata,
    Column("id", String(160), primary_key=True),  # = the alarm id: an alarm notifies once
    Column("case_id", String(32), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("step", Integer, nullable=False),
    Column("notify_role", String(32), nullable=False),
    Column("recipient", String(128), nullable=False),
    Column("rule_key", String(96), nullable=False),
    Column("deadline_due_at", UTCDateTime(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("read_at", UTCDateTime()),
)
Index("ix_notifications_recipient", notifications.c.recipient, notifications.c.created_at)
Index("ix_notifications_case", notifications.c.case_id, notifications.c.created_at)

letters = Table(
    "letters",
    metadata,
    Column("id", String(96), primary_key=True),
    Column("case_id", String(32), nullable=False),
    Column("todo_id", String(48), nullable=False),
    Column("form", String(48), nullable=False),
    Column("language", String(8), nullable=False),
    Column("context", JSON, nullable=False),
    Column("body", Text),
    Column("attachment", Text),  # an iCalendar (.ics) file for a booked meeting
    Column("rendered_at", UTCDateTime()),
    Column("created_at", UTCDateTime(), nullable=False),
)
Index("ix_letters_pending", letters.c.rendered_at)
# The case page lists a case's letters: without this it read every letter of every case (bench/web_scale.py).
Index("ix_letters_case", letters.c.case_id)
Index("ix_letters_todo", letters.c.todo_id, letters.c.form, letters.c.created_at)

pauses = Table(
    "pauses",
    metadata,
    Column("id", String(48), primary_key=True),
    Column("case_id", String(32), ForeignKey("cases.id"), nullable=False),
    Column("basis", String(32), nullable=False),  # sickness, exemption, treatment_stay, ...
    Column("starts_at", UTCDateTime(), nullable=False),
    Column("ends_at", UTCDateTime()),  # NULL while the end is not known
    Column("note", Text),
    Column("recorded_by", String(128), nullable=False),
    Column("recorded_at", UTCDateTime(), nullable=False),
)
Index("ix_pauses_case", pauses.c.case_id)

deadline_changes = Table(
    "deadline_changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("deadline_id", String(128), ForeignKey("deadlines.id"), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("changed_at", UTCDateTime(), nullable=False),
    Column("due_before", UTCDateTime(), nullable=False),
    Column("due_after", UTCDateTime()),  # NULL: the clock stopped (open-ended pause)
    Column("reason", Text, nullable=False),
    UniqueConstraint("deadline_id", "revision", name="uq_deadline_changes_revision"),
)

case_events = Table(
    "case_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", String(32), ForeignKey("cases.id"), nullable=False),
    Column("kind", String(16), nullable=False),  # meeting | offer
    Column("occurred_at", UTCDateTime(), nullable=False),
    Column("step_id", Integer, ForeignKey("steps.id")),  # NULL: recorded outside the stages (issue 12)
    # An event recorded outside the stages: "<case>/<key>", so the same submission twice is one event.
    Column("event_id", String(96)),
    Column("note", Text),
    Column("recorded_by", String(128)),
    Column("recorded_at", UTCDateTime()),
    # How the conversation or offer was held and by whom (issue 13 item 4); NULL for older events.
    Column("contact_form", String(16)),  # in_person | phone | video | digital
    Column("held_by", String(128)),
    # A step records each kind of event once, however often it is applied.
    UniqueConstraint("step_id", "kind", name="uq_case_events_step_kind"),
    UniqueConstraint("event_id", name="uq_case_events_event_id"),
)
Index("ix_case_events_case", case_events.c.case_id, case_events.c.kind, case_events.c.occurred_at)

# A case exempted from a caseload coverage target by a recorded, reasoned assessment (issue 13; from
# 2026-07-01 up to 25 % of a group may be exempted, LOV nr. 1750 af 29/12/2025). One per case and target.
coverage_exemptions = Table(
    "coverage_exemptions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", String(32), ForeignKey("cases.id"), nullable=False),
    Column("municipality", String(64), nullable=False),
    Column("target", String(64), nullable=False),  # config: coverage_targets.<key>
    Column("reason", String(64), nullable=False),  # config: exemption_reasons.<key>
    Column("note", Text),
    Column("recorded_by", String(128), nullable=False),
    Column("recorded_at", UTCDateTime(), nullable=False),
    UniqueConstraint("case_id", "target", name="uq_coverage_exemptions_case_target"),
)
Index("ix_coverage_exemptions_target", coverage_exemptions.c.municipality, coverage_exemptions.c.target)

# The work duty's plan for a case's week (LAB kap. 16 a): activities with hours, against the hours
# required; one row per case and week, replaced when the plan is saved again (issue 13).
week_plans = Table(
    "week_plans",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", String(32), ForeignKey("cases.id"), nullable=False),
    Column("municipality", String(64), nullable=False),
    Column("week_start", Date, nullable=False),  # a Monday
    Column("required_hours", Float, nullable=False),
    Column("activities", JSON, nullable=False),  # [[activity, hours], ...]
    Column("recorded_by", String(128), nullable=False),
    Column("recorded_at", UTCDateTime(), nullable=False),
    UniqueConstraint("case_id", "week_start", name="uq_week_plans_case_week"),
)
Index("ix_week_plans_week", week_plans.c.municipality, week_plans.c.week_start)

caseworker_changes = Table(
    "caseworker_changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", String(32), ForeignKey("cases.id"), nullable=False),
    Column("previous", String(128)),  # NULL: the first caseworker (from the team queue), not a change
    Column("caseworker", String(128), nullable=False),
    Column("changed_at", UTCDateTime(), nullable=False),
    Column("changed_by", String(128), nullable=False),
)
Index("ix_caseworker_changes_case", caseworker_changes.c.case_id, caseworker_changes.c.changed_at)

placements = Table(
    "placements",
    metadata,
    Column("step_id", Integer, ForeignKey("steps.id"), primary_key=True),  # the outcome that started it
    Column("case_id", String(32), ForeignKey("cases.id"), nullable=False),
    Column("municipality", String(64), nullable=False),
    Column("intervention", String(48), nullable=False),
    Column("provider", String(200), nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date, nullable=False),
)
Index("ix_placements_occupancy", placements.c.municipality, placements.c.intervention, placements.c.ends_on)

# -- people and what they did (issue 4: the web inbox, the console, the API) ---------------------

users = Table(
    "users",
    metadata,
    Column("username", String(64), primary_key=True),  # for caseworkers: the id on cases and to-dos
    Column("display_name", String(128), nullable=False),
    Column("role", String(16), nullable=False),  # caseworker | team_lead | manager | operations
    Column("municipality", String(64)),  # NULL for operations: they see every municipality's counts
    Column("team", String(64)),  # caseworkers and team leads
    Column("password_hash", String(255)),  # argon2; NULL for a user who signs in only through SSO
    Column("api_token_hash", String(64)),  # sha256 of the bearer token an integration uses
    Column("active", Boolean, nullable=False, server_default=sa_true()),
    Column("failed_sign_ins", Integer, nullable=False, server_default="0"),
    Column("locked_until", UTCDateTime()),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("language", String(8)),  # da | sv | en; NULL: the municipality's language
    UniqueConstraint("api_token_hash", name="uq_users_api_token_hash"),
)

web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id", String(64), primary_key=True),  # sha256 of the cookie value: a stolen table signs no one in
    Column("username", String(64), ForeignKey("users.username"), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
)
Index("ix_web_sessions_username", web_sessions.c.username)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("username", String(64), nullable=False),
    Column("role", String(16), nullable=False),
    Column("action", String(32), nullable=False),  # view_case | complete_todo | reassign | record_application
    Column("case_id", String(32)),
    Column("municipality", String(64)),
    Column("via", String(8), nullable=False),  # web | api | cli
    Column("detail", Text),
)
Index("ix_audit_log_case", audit_log.c.case_id, audit_log.c.at)
Index("ix_audit_log_municipality", audit_log.c.municipality, audit_log.c.at)

api_requests = Table(
    "api_requests",
    metadata,
    # A client repeats a request with the same Idempotency-Key and gets the first answer again.
    Column("username", String(64), primary_key=True),
    Column("key", String(128), primary_key=True),
    Column("fingerprint", String(64), nullable=False),  # sha256 of method, path and body
    Column("status_code", Integer, nullable=False),
    Column("response", JSON, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

# -- telling other systems (issue 5): an outbox written with the change, deliveries per receiver --

outbox = Table(
    "outbox",
    metadata,
    # Written in the same transaction as the change it reports (an escalation fired, a letter
    # rendered), so nothing is reported that did not happen and nothing that happened is lost.
    Column("id", String(200), primary_key=True),  # "<kind>:<source id>": one event per change
    Column("kind", String(32), nullable=False),  # reminder | escalation | alert | letter
    Column("case_id", String(32), nullable=False),
    Column("municipality", String(64), nullable=False),
    Column("payload", JSON, nullable=False),  # pseudonymous: case id, rule, times; never the citizen's ref
    Column("created_at", UTCDateTime(), nullable=False),
    Column("dispatched_at", UTCDateTime()),  # when deliveries were made for the receivers subscribed
)
Index("ix_outbox_undispatched", outbox.c.dispatched_at, outbox.c.created_at)

deliveries = Table(
    "deliveries",
    metadata,
    Column("event_id", String(200), ForeignKey("outbox.id"), primary_key=True),
    Column("receiver", String(64), primary_key=True),
    Column("municipality", String(64), nullable=False),
    Column("channel", String(16), nullable=False),  # webhook | email
    Column("state", String(16), nullable=False, server_default="pending"),  # pending | delivered | dead
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("lease_until", UTCDateTime()),  # taken by a worker until then; a dead worker's lease lapses
    Column("last_error", Text),
    Column("delivered_at", UTCDateTime()),
    Column("created_at", UTCDateTime(), nullable=False),
)
Index("ix_deliveries_due", deliveries.c.state, deliveries.c.next_attempt_at)

# -- rule versions applied to running cases (issue 6) ---------------------------------------------

rule_changes = Table(
    "rule_changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("municipality", String(64), nullable=False),
    Column("version", String(40), nullable=False),
    Column("stamp", String(64), nullable=False),
    Column("applied_at", UTCDateTime(), nullable=False),
    Column("applied_by", String(128), nullable=False),
    Column("moved", Integer, nullable=False),
    Column("summary", JSON, nullable=False),  # the preview's figures, as applied
)
Index("ix_rule_changes_municipality", rule_changes.c.municipality, rule_changes.c.applied_at)

# -- what a caseworker typed into a to-do's form when the save could not be taken (issue 12) ------

form_drafts = Table(
    "form_drafts",
    metadata,
    Column("todo_id", String(48), primary_key=True),
    Column("username", String(64), ForeignKey("users.username"), primary_key=True),
    Column("fields", JSON, nullable=False),  # [[name, value], ...] as posted, the CSRF token left out
    Column("kept_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
)
Index("ix_form_drafts_expires", form_drafts.c.expires_at)

# Caseworkers' meeting hours and absences (issue 15), defined in their own module on this metadata.
caseworker_availability, caseworker_absences = availability_tables(metadata, UTCDateTime)
