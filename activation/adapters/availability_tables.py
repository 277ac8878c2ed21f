"""The tables of caseworkers' availability for meetings, defined on the metadata of activation/adapters/tables.py."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Date, Index, Integer, MetaData, String, Table, TypeDecorator


def availability_tables(metadata: MetaData, UTCDateTime: type[TypeDecorator[datetime]]) -> tuple[Table, Table]:
    """Define the caseworker_availability and caseworker_absences tables on the metadata."""
    # When a caseworker holds meetings (issue 15): weekly hours per weekday, slot length, a daily cap.
    availability = Table(
        "caseworker_availability",
        metadata,
        Column("username", String(64), primary_key=True),  # users.username (a caseworker)
        Column("municipality", String(64), nullable=False),
        Column("hours", JSON, nullable=False),  # {"mon": "09:00-12:00,13:00-16:00", ...}
        Column("slot_minutes", Integer, nullable=False),
        Column("max_per_day", Integer),  # NULL: no cap beyond the hours
        Column("updated_by", String(128), nullable=False),
        Column("updated_at", UTCDateTime(), nullable=False),
    )

    # Whole days a caseworker holds no meetings: holiday, sickness, course (first to last day inclusive).
    absences = Table(
        "caseworker_absences",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("username", String(64), nullable=False),
        Column("kind", String(16), nullable=False),
        Column("first_day", Date, nullable=False),
        Column("last_day", Date, nullable=False),
        Column("recorded_by", String(128), nullable=False),
        Column("recorded_at", UTCDateTime(), nullable=False),
    )
    Index("ix_caseworker_absences_user", absences.c.username, absences.c.last_day)
    return availability, absences
