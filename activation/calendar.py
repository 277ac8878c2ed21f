"""Business calendars: public holidays, a municipality's own closing days and opening hours."""

from __future__ import annotations

import calendar as _stdlib_calendar
import itertools
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays as _holidays

from activation.durations import Duration, Unit

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
END_OF_DAY = time(23, 59, 59)  # `end_of_day`: a deadline in days lasts to the end of its last day
DAY_UNITS = (Unit.DAYS, Unit.WEEKS, Unit.MONTHS)
_SEARCH_LIMIT_DAYS = 800  # a calendar closed for more than two years is a configuration error
_DAY_CACHE_MAX = 5000  # days whose opening periods a calendar keeps


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


@dataclass(frozen=True)
class DayHours:
    """One day's opening windows in order, e.g. "08:00-12:00,13:00-15:30" (a lunch break)."""

    windows: tuple[Window, ...]

    @classmethod
    def parse(cls, text: str) -> DayHours:
        """Read "08:00-16:00" or several windows separated by commas, in order and not overlapping."""
        windows = tuple(Window.parse(part) for part in str(text).split(","))
        for before, after in itertools.pairwise(windows):
            if after.opens <= before.closes:
                raise ValueError(f"{text!r}: {after} must open after {before} closes")
        return cls(windows)

    def __str__(self) -> str:
        return ",".join(str(w) for w in self.windows)


@dataclass
class BusinessCalendar:
    """Count durations the way a municipality's office does."""

    name: str
    timezone: str
    holiday_country: str | None = None
    closing_days: frozenset[date] = frozenset()
    yearly_closing_days: frozenset[tuple[int, int]] = frozenset()  # (month, day), e.g. (12, 24)
    opening_hours: dict[int, Window | DayHours] = field(default_factory=dict)  # weekday 0=Mon -> window(s)
    # The `holidays` package's categories: SE "de_facto" adds midsommarafton, julafton, nyårsafton.
    holiday_categories: tuple[str, ...] = ("public",)
    early_closing: dict[date, time] = field(default_factory=dict)  # e.g. 2027-06-05 -> 12:00
    yearly_early_closing: dict[tuple[int, int], time] = field(default_factory=dict)  # (6, 5) -> 12:00
    _holiday_cache: dict[int, dict[date, str]] = field(default_factory=dict, repr=False)
    _day_cache: dict[date, tuple[tuple[datetime, datetime], ...]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.tz = ZoneInfo(self.timezone)
        if not self.opening_hours:
            raise CalendarError(f"calendar {self.name!r} has no opening hours")
        self._hours = {
            day: hours.windows if isinstance(hours, DayHours) else (hours,) for day, hours in self.opening_hours.items()
        }

    # -- days -------------------------------------------------------------------------------
    def holiday_name(self, day: date) -> str | None:
        """Return why the office is closed on a day that is not a weekend, or None."""
        if self.holiday_country:
            year = self._holiday_cache.get(day.year)
            if year is None:
                found = _holidays.country_holidays(
                    self.holiday_country, years=day.year, categories=self.holiday_categories
                )
                year = dict(found)
                self._holiday_cache[day.year] = year
            if day in year:
                return str(year[day])
        if day in self.closing_days or (day.month, day.day) in self.yearly_closing_days:
            return "municipal closing day"
        return None

    def windows(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """Return the day's opening periods, an early closing applied; empty when closed all day."""
        found = self._day_cache.get(day)
        if found is None:
            if len(self._day_cache) > _DAY_CACHE_MAX:
                self._day_cache.clear()  # a long-running process counts over a few years' days at most
            found = self._day_cache[day] = self._open_periods(day)
        return found

    def _open_periods(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        if day.weekday() not in self.opening_hours or self.holiday_name(day) is not None:
            return ()
        closes_early = self.early_closing.get(day) or self.yearly_early_closing.get((day.month, day.day))
        found = []
        for w in self._hours[day.weekday()]:
            end = min(w.closes, closes_early) if closes_early else w.closes
            if w.opens < end:
                found.append(
                    (datetime.combine(day, w.opens, tzinfo=self.tz), datetime.combine(day, end, tzinfo=self.tz))
                )
        return tuple(found)

    def is_open_day(self, day: date) -> bool:
        """Tell whether the office opens at all on this day."""
        return bool(self.windows(day))

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
        return any(opens <= local <= closes for opens, closes in self.windows(local.date()))

    def next_opening(self, moment: datetime) -> datetime:
        """Return the moment itself if open, else when the office next opens (after a break too)."""
        local = self.local(moment)
        for opens, closes in self.windows(local.date()):
            if local < closes:
                return max(local, opens)
        return self.windows(self._next_open_day(local.date()))[0][0]

    def last_open_moment(self, moment: datetime) -> datetime:
        """Return the moment itself if open, else when the office last closed (before a break too)."""
        local = self.local(moment)
        for opens, closes in reversed(self.windows(local.date())):
            if local >= opens:
                return min(local, closes)
        return self.windows(self._previous_open_day(local.date()))[-1][1]

    def end_of_next_opening(self, moment: datetime) -> datetime:
        """Return the moment if open, else the closing time of the next opening period (after a break too)."""
        local = self.local(moment)
        if self.is_open(local):
            return local
        for opens, closes in self.windows(local.date()):
            if local < opens:
                return closes
        return self.windows(self._next_open_day(local.date()))[0][1]

    def end_of_open_day(self, moment: datetime) -> datetime:
        """Return the end (23:59:59 local) of the moment's day if the office opens then, else of the next open day."""
        day = self.local(moment).date()
        if not self.is_open_day(day):
            day = self._next_open_day(day)
        return datetime.combine(day, END_OF_DAY, tzinfo=self.tz)

    # -- arithmetic -------------------------------------------------------------------------
    def add(
        self, start: datetime, duration: Duration, *, extend_when_closed: bool = False, end_of_day: bool = False
    ) -> datetime:
        """Return start + duration counted on this calendar.

        Calendar units (hours, days, weeks, months) ignore opening hours; with
        ``extend_when_closed`` a result that falls while the office is closed moves to the end of
        the next opening period, because nobody can meet a citizen on a Sunday. With ``end_of_day``
        (days, weeks, months only) the result is the end of the day it falls on, 23:59:59 local, as
        administrative practice counts a deadline in days; with ``extend_when_closed`` too, a day
        the office does not open moves it to the end of the next day it opens.
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
        if end_of_day and duration.unit in DAY_UNITS:
            if extend_when_closed:
                return self.end_of_open_day(result)
            return datetime.combine(result.date(), END_OF_DAY, tzinfo=self.tz)
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
        """Return the clock time on an open day: its opening if earlier, else the last open moment at or before it."""
        windows = self.windows(day)
        moment = datetime.combine(day, clock, tzinfo=self.tz)
        if moment <= windows[0][0]:
            return windows[0][0]
        return next(min(moment, closes) for opens, closes in reversed(windows) if moment >= opens)

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
        for _ in range(_SEARCH_LIMIT_DAYS * 4):
            closes = next(c for o, c in self.windows(cursor.date()) if o <= cursor <= c)
            available = closes - cursor
            if remaining <= available:
                return cursor + remaining
            remaining -= available
            cursor = self.next_opening(closes + timedelta(microseconds=1))
        raise CalendarError(f"calendar {self.name!r} cannot fit {amount} of opening time")

    def open_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Return how much opening time lies between two moments (zero if end is not later)."""
        total = timedelta()
        cursor = self.local(start)
        end = self.local(end)
        day = cursor.date()
        while day <= end.date():
            for window_opens, window_closes in self.windows(day):
                opens, closes = max(window_opens, cursor), min(window_closes, end)
                if closes > opens:
                    total += closes - opens
            day += timedelta(days=1)
        return total

    def _subtract_working_hours(self, local: datetime, n: int) -> datetime:
        remaining = timedelta(hours=n)
        cursor = self.last_open_moment(local)
        for _ in range(_SEARCH_LIMIT_DAYS * 4):
            opens = next(o for o, c in self.windows(cursor.date()) if o <= cursor <= c)
            available = cursor - opens
            if remaining <= available:
                return cursor - remaining
            remaining -= available
            cursor = self.last_open_moment(opens - timedelta(microseconds=1))
        raise CalendarError(f"calendar {self.name!r} cannot fit {n} working hours")

    def describe(self) -> str:
        """Say in one line how this calendar counts."""
        hours = ", ".join(f"{WEEKDAYS[d]} {w}" for d, w in sorted(self.opening_hours.items()))
        if self.holiday_categories != ("public",):
            hours += f" (holiday categories {', '.join(self.holiday_categories)})"
        holidays = f"public holidays of {self.holiday_country}" if self.holiday_country else "no public holidays"
        own = len(self.closing_days) + len(self.yearly_closing_days)
        return f"{self.name}: open {hours}; closed on {holidays} and {own} own closing days ({self.timezone})"
