"""Business calendars: public holidays, a municipality's own closing days and opening hours."""

from __future__ import annotations

import calendar as _stdlib_calendar
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays as _holidays

from activation.durations import Duration, Unit

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SEARCH_LIMIT_DAYS = 800  # a calendar closed for more than two years is a configuration error


class CalendarError(ValueError):
    """A calendar that cannot count time (e.g. never open)."""


@dataclass(frozen=True)
class Window:
    """One day's opening hours, local time."""

    opens: time
    closes: time

    @classmethod
    def parse(cls, text: str) -> Window:
        """Read "08:00-16:00"."""
        try:
            start, end = (part.strip() for part in str(text).split("-"))
            window = cls(time.fromisoformat(start), time.fromisoformat(end))
        except ValueError as exc:
            raise ValueError(f"{text!r} is not an opening window like '08:00-16:00'") from exc
        if window.opens >= window.closes:
            raise ValueError(f"{text!r} closes before it opens")
        return window

    def __str__(self) -> str:
        return f"{self.opens:%H:%M}-{self.closes:%H:%M}"


@dataclass
class BusinessCalendar:
    """Count durations the way a municipality's office does."""

    name: str
    timezone: str
    holiday_country: str | None = None
    closing_days: frozenset[date] = frozenset()
    yearly_closing_days: frozenset[tuple[int, int]] = frozenset()  # (month, day), e.g. (12, 24)
    opening_hours: dict[int, Window] = field(default_factory=dict)  # weekday 0=Mon -> window
    _holiday_cache: dict[int, dict[date, str]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.tz = ZoneInfo(self.timezone)
        if not self.opening_hours:
            raise CalendarError(f"calendar {self.name!r} has no opening hours")

    # -- days -------------------------------------------------------------------------------
    def holiday_name(self, day: date) -> str | None:
        """Return why the office is closed on a day that is not a weekend, or None."""
        if self.holiday_country:
            year = self._holiday_cache.get(day.year)
            if year is None:
                year = dict(_holidays.country_holidays(self.holiday_country, years=day.year))
                self._holiday_cache[day.year] = year
            if day in year:
                return str(year[day])
        if day in self.closing_days or (day.month, day.day) in self.yearly_closing_days:
            return "municipal closing day"
        return None

    def is_open_day(self, day: date) -> bool:
        """Tell whether the office opens at all on this day."""
        return day.weekday() in self.opening_hours and self.holiday_name(day) is None

    def _window(self, day: date) -> tuple[datetime, datetime] | None:
        if not self.is_open_day(day):
            return None
        w = self.opening_hours[day.weekday()]
        return (
            datetime.combine(day, w.opens, tzinfo=self.tz),
            datetime.combine(day, w.closes, tzinfo=self.tz),
        )

    def _next_open_day(self, day: date) -> date:
        for _ in range(_SEARCH_LIMIT_DAYS):
            day += timedelta(days=1)
            if self.is_open_day(day):
                return day
        raise CalendarError(f"calendar {self.name!r} is closed for {_SEARCH_LIMIT_DAYS} days")

    def _previous_open_day(self, day: date) -> date:
        for _ in range(_SEARCH_LIMIT_DAYS):
            day -= timedelta(days=1)
            if self.is_open_day(day):
                return day
        raise CalendarError(f"calendar {self.name!r} is closed for {_SEARCH_LIMIT_DAYS} days")

    # -- moments ----------------------------------------------------------------------------
    def local(self, moment: datetime) -> datetime:
        """Return the moment in the calendar's time zone."""
        if moment.tzinfo is None:
            raise CalendarError("naive datetimes are ambiguous; give a time zone")
        return moment.astimezone(self.tz)

    def is_open(self, moment: datetime) -> bool:
        """Tell whether the office is open at this moment (closing time included)."""
        local = self.local(moment)
        window = self._window(local.date())
        return window is not None and window[0] <= local <= window[1]

    def next_opening(self, moment: datetime) -> datetime:
        """Return the moment itself if open, else when the office next opens."""
        local = self.local(moment)
        window = self._window(local.date())
        if window and window[0] <= local < window[1]:
            return local
        if window and local < window[0]:
            return window[0]
        start, _ = self._window(self._next_open_day(local.date()))  # type: ignore[misc]
        return start

    def last_open_moment(self, moment: datetime) -> datetime:
        """Return the moment itself if open, else when the office last closed."""
        local = self.local(moment)
        window = self._window(local.date())
        if window and window[0] <= local <= window[1]:
            return local
        if window and local > window[1]:
            return window[1]
        _, end = self._window(self._previous_open_day(local.date()))  # type: ignore[misc]
        return end

    def end_of_next_opening(self, moment: datetime) -> datetime:
        """Return the moment if open, else the closing time of the next opening period."""
        local = self.local(moment)
        if self.is_open(local):
            return local
        window = self._window(local.date())
        if window and local < window[0]:
            return window[1]
        _, end = self._window(self._next_open_day(local.date()))  # type: ignore[misc]
        return end

    # -- arithmetic -------------------------------------------------------------------------
    def add(self, start: datetime, duration: Duration, *, extend_when_closed: bool = False) -> datetime:
        """Return start + duration counted on this calendar.

        Calendar units (hours, days, weeks, months) ignore opening hours; with
        ``extend_when_closed`` a result that falls while the office is closed moves to the end of
        the next opening period, because nobody can meet a citizen on a Sunday.
        Working units count only open time and always end inside opening hours.
        """
        if duration.amount <= 0:
            raise CalendarError(f"durations must be positive, got {duration}")
        local = self.local(start)
        if duration.unit is Unit.WORKING_HOURS:
            return self._add_working_hours(local, duration.amount)
        if duration.unit is Unit.WORKING_DAYS:
            return self._add_working_days(local, duration.amount)
        result = self._add_calendar(local, duration, +1)
        return self.end_of_next_opening(result) if extend_when_closed else result

    def subtract(self, end: datetime, duration: Duration) -> datetime:
        """Return end - duration; a result in closed time moves back to the last open moment.

        Used for reminders: a reminder that would fire on a Saturday fires on Friday afternoon
        instead, while someone is there to act on it.
        """
        if duration.amount <= 0:
            raise CalendarError(f"durations must be positive, got {duration}")
        local = self.local(end)
        if duration.unit is Unit.WORKING_HOURS:
            return self._subtract_working_hours(local, duration.amount)
        if duration.unit is Unit.WORKING_DAYS:
            return self._subtract_working_days(local, duration.amount)
        return self.last_open_moment(self._add_calendar(local, duration, -1))

    def _add_calendar(self, local: datetime, duration: Duration, sign: int) -> datetime:
        n = duration.amount * sign
        if duration.unit is Unit.HOURS:
            # Absolute hours: arithmetic in UTC so a DST change does not add or lose an hour.
            return (local.astimezone(ZoneInfo("UTC")) + timedelta(hours=n)).astimezone(self.tz)
        if duration.unit is Unit.DAYS:
            day = local.date() + timedelta(days=n)
        elif duration.unit is Unit.WEEKS:
            day = local.date() + timedelta(weeks=n)
        else:  # months: the same day of month, clamped (31 Jan + 1 month = 28/29 Feb)
            month_index = local.year * 12 + (local.month - 1) + n
            year, month = divmod(month_index, 12)
            month += 1
            last = _stdlib_calendar.monthrange(year, month)[1]
            day = date(year, month, min(local.day, last))
        return datetime.combine(day, local.time().replace(tzinfo=None), tzinfo=self.tz)

    def _clamp(self, day: date, clock: time) -> datetime:
        start, end = self._window(day)  # type: ignore[misc]
        moment = datetime.combine(day, clock, tzinfo=self.tz)
        return min(max(moment, start), end)

    def _add_working_days(self, local: datetime, n: int) -> datetime:
        # An application that arrives after hours counts from the next opening.
        begin = self.next_opening(local)
        day = begin.date()
        for _ in range(n):
            day = self._next_open_day(day)
        return self._clamp(day, begin.time().replace(tzinfo=None))

    def _subtract_working_days(self, local: datetime, n: int) -> datetime:
        end = self.last_open_moment(local)
        day = end.date()
        for _ in range(n):
            day = self._previous_open_day(day)
        return self._clamp(day, end.time().replace(tzinfo=None))

    def _add_working_hours(self, local: datetime, n: int) -> datetime:
        return self.add_open_time(local, timedelta(hours=n))

    def add_open_time(self, start: datetime, amount: timedelta) -> datetime:
        """Return the moment when `amount` of opening time has passed after start."""
        remaining = amount
        cursor = self.next_opening(self.local(start))
        for _ in range(_SEARCH_LIMIT_DAYS):
            _, closes = self._window(cursor.date())  # type: ignore[misc]
            available = closes - cursor
            if remaining <= available:
                return cursor + remaining
            remaining -= available
            cursor, _ = self._window(self._next_open_day(cursor.date()))  # type: ignore[misc]
        raise CalendarError(f"calendar {self.name!r} cannot fit {amount} of opening time")

    def open_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Return how much opening time lies between two moments (zero if end is not later)."""
        total = timedelta()
        cursor = self.local(start)
        end = self.local(end)
        day = cursor.date()
        while day <= end.date():
            window = self._window(day)
            if window:
                opens, closes = max(window[0], cursor), min(window[1], end)
                if closes > opens:
                    total += closes - opens
            day += timedelta(days=1)
        return total

    def _subtract_working_hours(self, local: datetime, n: int) -> datetime:
        remaining = timedelta(hours=n)
        cursor = self.last_open_moment(local)
        for _ in range(_SEARCH_LIMIT_DAYS):
            opens, _ = self._window(cursor.date())  # type: ignore[misc]
            available = cursor - opens
            if remaining <= available:
                return cursor - remaining
            remaining -= available
            _, cursor = self._window(self._previous_open_day(cursor.date()))  # type: ignore[misc]
        raise CalendarError(f"calendar {self.name!r} cannot fit {n} working hours")

    def describe(self) -> str:
        """Say in one line how this calendar counts."""
        hours = ", ".join(f"{WEEKDAYS[d]} {w}" for d, w in sorted(self.opening_hours.items()))
        holidays = f"public holidays of {self.holiday_country}" if self.holiday_country else "no public holidays"
        own = len(self.closing_days) + len(self.yearly_closing_days)
        return f"{self.name}: open {hours}; closed on {holidays} and {own} own closing days ({self.timezone})"
