"""Rule sets: the shipped config, its version stamps, and how broken config is refused.

Every refusal is provoked in a copy of the real config directory (tmp_path) with one file edited,
and every problem must name the file to fix and the dotted key inside it.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from datetime import datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from activation import journey
from activation.config import (
    DEFAULT_CONFIG_DIR,
    ENV_CONFIG_DIR,
    ConfigError,
    RuleBook,
    config_dir,
    load,
)
from activation.durations import Duration, Unit

REAL_CONFIG = Path(__file__).resolve().parent.parent / "config"
SHIPPED = ("allerod", "boras", "karlskrona", "linkoping", "vaxjo")
SWEDISH = ("boras", "karlskrona", "linkoping", "vaxjo")


# -- helpers --------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _no_config_dir_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_CONFIG_DIR, raising=False)


@pytest.fixture
def shipped() -> RuleBook:
    return load()


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A private copy of the real config directory to break."""
    root = tmp_path / "config"
    shutil.copytree(REAL_CONFIG, root)
    return root


def edit(path: Path, change: Callable[[Any], object]) -> None:
    """Load a YAML file, let change() modify the data in place, write it back."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def problems_of(root: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(root)
    return caught.value.problems


def municipality_file(root: Path, code: str) -> Path:
    return root / "municipalities" / f"{code}.yaml"


def national_file(root: Path, country: str) -> Path:
    return root / "national" / f"{country}.yaml"


# -- the shipped config ---------------------------------------------------------------------------


def test_the_shipped_config_loads_every_municipality(shipped: RuleBook) -> None:
    assert set(SHIPPED) <= set(shipped.municipalities)


def test_the_shipped_config_is_read_from_the_bundled_directory_by_default(shipped: RuleBook) -> None:
    assert shipped.directory == DEFAULT_CONFIG_DIR == REAL_CONFIG


def test_every_shipped_municipality_has_a_rule_for_every_journey_deadline(shipped: RuleBook) -> None:
    for code in SHIPPED:
        assert set(journey.deadline_keys()) <= set(shipped.municipality(code).deadlines), code


def test_karlskronas_first_meeting_is_due_48_hours_after_the_application(shipped: RuleBook) -> None:
    rule = shipped.municipality("karlskrona").deadlines["first_meeting"]
    assert rule.due == Duration(48, Unit.HOURS)
    assert str(rule.due) == "48 hours"
    assert rule.calendar == "office"
    assert rule.extend_when_closed is True


def test_karlskronas_shipped_rule_makes_a_friday_afternoon_application_due_monday_at_closing(shipped: RuleBook) -> None:
    karlskrona = shipped.municipality("karlskrona")
    rule = karlskrona.deadlines["first_meeting"]
    office = karlskrona.calendar(rule.calendar)
    stockholm = ZoneInfo("Europe/Stockholm")
    due = office.add(
        datetime(2026, 3, 13, 15, 0, tzinfo=stockholm), rule.due, extend_when_closed=rule.extend_when_closed
    )
    assert due == datetime(2026, 3, 16, 16, 30, tzinfo=stockholm)


def test_karlskronas_reminders_and_escalations_are_read_in_order(shipped: RuleBook) -> None:
    rule = shipped.municipality("karlskrona").deadlines["first_meeting"]
    assert [str(d) for d in rule.remind_before] == ["24 hours", "2 working hours"]
    assert [(str(s.after), s.notify) for s in rule.escalate_after] == [
        ("1 working hour", "team_lead"),
        ("1 working day", "manager"),
    ]


def test_vaxjos_first_meeting_is_due_5_calendar_days_after_the_application(shipped: RuleBook) -> None:
    rule = shipped.municipality("vaxjo").deadlines["first_meeting"]
    assert rule.due == Duration(5, Unit.DAYS)
    assert str(rule.due) == "5 days"


def test_boras_counts_its_first_meeting_on_the_meetings_calendar(shipped: RuleBook) -> None:
    boras = shipped.municipality("boras")
    assert boras.deadlines["first_meeting"].calendar == "meetings"
    meetings = boras.calendar("meetings")
    assert meetings.name == "boras/meetings"
    assert sorted(meetings.opening_hours) == [0, 1, 2, 3]  # four days a week
    assert str(meetings.opening_hours[0]) == "08:30-16:00"


def test_boras_keeps_the_swedish_office_calendar_for_everything_else(shipped: RuleBook) -> None:
    boras = shipped.municipality("boras")
    assert boras.deadlines["assessment"].calendar == "office"
    office = boras.calendar("office")
    assert str(office.opening_hours[4]) == "08:00-15:00"
    assert office.holiday_country == "SE"


def test_linkoping_writes_the_plan_within_one_working_day(shipped: RuleBook) -> None:
    linkoping = shipped.municipality("linkoping")
    assert linkoping.deadlines["plan"].due == Duration(1, Unit.WORKING_DAYS)
    assert str(linkoping.deadlines["plan"].due) == "1 working day"


def test_linkoping_keeps_the_swedish_defaults_it_does_not_override(shipped: RuleBook) -> None:
    linkoping = shipped.municipality("linkoping")
    assert str(linkoping.deadlines["first_meeting"].due) == "5 working days"
    assert linkoping.country == "SE"
    assert linkoping.timezone == "Europe/Stockholm"


def test_linkoping_gives_the_first_meeting_to_a_caseworker(shipped: RuleBook) -> None:
    linkoping = shipped.municipality("linkoping")
    assert linkoping.todo_role("first_meeting", default="team_lead") == "caseworker"
    assert linkoping.todo_role("plan", default="team_lead") == "team_lead"


def test_allerod_extends_the_danish_baseline(shipped: RuleBook) -> None:
    allerod = shipped.municipality("allerod")
    assert allerod.extends == "dk"
    assert (allerod.country, allerod.language, allerod.timezone) == ("DK", "da", "Europe/Copenhagen")
    assert str(allerod.deadlines["first_meeting"].due) == "4 weeks"  # its own
    assert str(allerod.deadlines["assessment"].due) == "1 month"  # from dk.yaml
    office = allerod.calendar()
    assert office.holiday_country == "DK"
    assert office.yearly_early_closing[(6, 5)] == time(12, 0)  # Grundlovsdag: closes at noon


def test_a_municipality_is_found_whatever_the_case_of_its_code(shipped: RuleBook) -> None:
    assert shipped.municipality("Karlskrona").code == "karlskrona"
    assert shipped.version("KARLSKRONA") == shipped.version("karlskrona")


def test_an_unknown_municipality_is_refused_listing_the_configured_ones(shipped: RuleBook) -> None:
    with pytest.raises(ConfigError) as caught:
        shipped.municipality("ronneby")
    (problem,) = caught.value.problems
    assert problem.startswith("unknown municipality 'ronneby'; configured: ")
    for code in SHIPPED:
        assert code in problem


def test_a_municipalitys_own_rule_with_its_own_source_is_not_marked_a_local_choice(shipped: RuleBook) -> None:
    rule = shipped.municipality("karlskrona").deadlines["first_meeting"]
    assert "Karlskrona" in rule.source
    assert rule.local_choice is False


# -- version stamps -------------------------------------------------------------------------------


def test_each_config_version_is_the_declared_version_plus_an_8_hex_digit_content_hash(shipped: RuleBook) -> None:
    for code in SHIPPED:
        declared = shipped.municipality(code).version
        assert re.fullmatch(rf"{re.escape(declared)}\+[0-9a-f]{{8}}", shipped.version(code)), code
    assert shipped.version("karlskrona").startswith("karlskrona-2026.1+")


def test_an_identical_copy_of_the_config_has_identical_version_stamps(shipped: RuleBook, copy: Path) -> None:
    assert load(copy).versions == shipped.versions


def test_comments_and_layout_do_not_change_the_version_stamp(shipped: RuleBook, copy: Path) -> None:
    edit(municipality_file(copy, "karlskrona"), lambda data: None)  # rewritten without comments
    assert "#" not in municipality_file(copy, "karlskrona").read_text(encoding="utf-8")
    assert load(copy).version("karlskrona") == shipped.version("karlskrona")


def test_changing_a_value_changes_the_version_stamp_of_that_municipality_only(shipped: RuleBook, copy: Path) -> None:
    edit(municipality_file(copy, "karlskrona"), lambda d: d["deadlines"]["first_meeting"].update(due="72 hours"))
    changed = load(copy)
    assert changed.version("karlskrona") != shipped.version("karlskrona")
    assert changed.version("karlskrona").startswith("karlskrona-2026.1+")  # same declared version
    for code in set(SHIPPED) - {"karlskrona"}:
        assert changed.version(code) == shipped.version(code), code


def test_changing_a_national_value_changes_the_stamp_of_every_municipality_that_extends_it(
    shipped: RuleBook, copy: Path
) -> None:
    edit(national_file(copy, "se"), lambda d: d["deadlines"]["assessment"].update(due="4 weeks"))
    changed = load(copy)
    for code in SWEDISH:
        assert changed.version(code) != shipped.version(code), code
    assert changed.version("allerod") == shipped.version("allerod")


def test_changing_the_declared_version_changes_the_stamp(shipped: RuleBook, copy: Path) -> None:
    edit(municipality_file(copy, "vaxjo"), lambda d: d.update(version="vaxjo-2026.2"))
    assert re.fullmatch(r"vaxjo-2026\.2\+[0-9a-f]{8}", load(copy).version("vaxjo"))


# -- refusals in a municipality file --------------------------------------------------------------


def test_an_unknown_key_in_a_municipality_file_is_refused_naming_the_file_and_the_key(copy: Path) -> None:
    karlskrona = municipality_file(copy, "karlskrona")
    edit(karlskrona, lambda d: d.update(colour="blue"))
    assert problems_of(copy) == [f"{karlskrona}: colour: unknown key"]


def test_a_misspelt_key_inside_a_deadline_is_refused_with_its_dotted_key(copy: Path) -> None:
    karlskrona = municipality_file(copy, "karlskrona")
    edit(karlskrona, lambda d: d["deadlines"]["first_meeting"].update(remind_befor=["1 hour"]))
    assert problems_of(copy) == [f"{karlskrona}: deadlines.first_meeting.remind_befor: unknown key"]


def test_a_negative_deadline_is_refused(copy: Path) -> None:
    karlskrona = municipality_file(copy, "karlskrona")
    edit(karlskrona, lambda d: d["deadlines"]["first_meeting"].update(due="-48 hours"))
    assert problems_of(copy) == [f"{karlskrona}: deadlines.first_meeting.due: '-48 hours': a duration must be positive"]


def test_a_zero_deadline_is_refused(copy: Path) -> None:
    karlskrona = municipality_file(copy, "karlskrona")
    edit(karlskrona, lambda d: d["deadlines"]["first_meeting"].update(due="0 hours"))
    assert problems_of(copy) == [f"{karlskrona}: deadlines.first_meeting.due: '0 hours': a duration must be positive"]


def test_a_zero_reminder_is_refused_naming_its_place_in_the_list(copy: Path) -> None:
    karlskrona = municipality_file(copy, "karlskrona")
    edit(karlskrona, lambda d: d["deadlines"]["first_meeting"].update(remind_before=["0 working days"]))
    assert problems_of(copy) == [
        f"{karlskrona}: deadlines.first_meeting.remind_before.0: '0 working days': a duration must be positive"
    ]


def test_a_deadline_that_is_not_a_duration_is_refused_with_an_example(copy: Path) -> None:
    vaxjo = municipality_file(copy, "vaxjo")
    edit(vaxjo, lambda d: d["deadlines"]["first_meeting"].update(due="fem dagar"))
    (problem,) = problems_of(copy)
    assert problem.startswith(f"{vaxjo}: deadlines.first_meeting.due: 'fem dagar' is not a duration")


def test_escalating_to_an_unknown_role_is_refused_listing_the_roles(copy: Path) -> None:
    karlskrona = municipality_file(copy, "karlskrona")
    edit(karlskrona, lambda d: d["deadlines"]["first_meeting"]["escalate_after"][0].update(notify="janitor"))
    assert problems_of(copy) == [
        f"{karlskrona}: deadlines.first_meeting.escalate_after.0: notify: unknown role 'janitor';"
        " roles are caseworker, team_lead, manager, operations"
    ]


def test_an_unknown_stage_under_stages_is_refused_listing_the_stages(copy: Path) -> None:
    linkoping = municipality_file(copy, "linkoping")
    edit(linkoping, lambda d: d["stages"].update(interview={"todo_role": "caseworker"}))
    (problem,) = problems_of(copy)
    assert problem.startswith(f"{linkoping}: stages.interview: unknown stage; stages are application, first_meeting")


def test_an_unknown_role_for_a_stages_todo_is_refused(copy: Path) -> None:
    linkoping = municipality_file(copy, "linkoping")
    edit(linkoping, lambda d: d["stages"]["first_meeting"].update(todo_role="janitor"))
    assert problems_of(copy) == [f"{linkoping}: stages.first_meeting.todo_role: unknown role 'janitor'"]


def test_a_deadline_on_an_unknown_calendar_is_refused_listing_the_calendars(copy: Path) -> None:
    boras = municipality_file(copy, "boras")
    edit(boras, lambda d: d["deadlines"]["first_meeting"].update(calendar="meeting"))
    assert problems_of(copy) == [
        f"{boras}: deadlines.first_meeting.calendar: unknown calendar 'meeting'; defined: office, meetings"
    ]


def test_a_reminder_longer_than_its_deadline_is_refused_naming_the_municipality_file(copy: Path) -> None:
    # A restated deadline rule replaces the baseline's whole, so the municipality's file alone is to blame.
    karlskrona = municipality_file(copy, "karlskrona")
    edit(karlskrona, lambda d: d["deadlines"]["first_meeting"].update(remind_before=["72 hours"]))
    (problem,) = problems_of(copy)
    assert problem.startswith(f"{karlskrona}: deadlines.first_meeting: ")
    assert "remind_before[0]: a reminder 72 hours before a 48 hours deadline" in problem


def test_a_reminder_in_days_longer_than_a_deadline_in_days_is_refused(copy: Path) -> None:
    vaxjo = municipality_file(copy, "vaxjo")
    edit(vaxjo, lambda d: d["deadlines"]["placement_start"].update(remind_before=["5 days"]))
    (problem,) = problems_of(copy)
    assert problem.startswith(str(vaxjo))
    assert "deadlines.placement_start: remind_before[0]: a reminder 5 days before a 5 days deadline" in problem


def test_escalation_steps_that_do_not_come_later_one_after_another_are_refused(copy: Path) -> None:
    karlskrona = municipality_file(copy, "karlskrona")
    steps = [{"after": "1 working day", "notify": "manager"}, {"after": "1 working hour", "notify": "team_lead"}]
    edit(karlskrona, lambda d: d["deadlines"]["first_meeting"].update(escalate_after=steps))
    (problem,) = problems_of(copy)
    assert problem.startswith(str(karlskrona))
    assert "deadlines.first_meeting: escalate_after[1]: escalation steps must come later" in problem


def test_a_misspelt_deadline_key_is_refused_listing_the_journeys_keys(copy: Path) -> None:
    karlskrona = municipality_file(copy, "karlskrona")
    edit(karlskrona, lambda d: d["deadlines"].update(first_meetng=d["deadlines"].pop("first_meeting")))
    assert problems_of(copy) == [
        f"{karlskrona}: deadlines.first_meetng: unknown deadline key; the journey uses "
        + ", ".join(journey.deadline_keys())
    ]


def test_an_unknown_baseline_in_extends_is_refused_listing_the_baselines(copy: Path) -> None:
    allerod = municipality_file(copy, "allerod")
    edit(allerod, lambda d: d.update(extends="fi"))
    assert problems_of(copy) == [f"{allerod}: extends: unknown baseline 'fi'; baselines: dk, se"]


def test_malformed_yaml_is_refused_naming_the_file(copy: Path) -> None:
    vaxjo = municipality_file(copy, "vaxjo")
    vaxjo.write_text("extends: se\ndeadlines: [unclosed\n  first_meeting: {\n", encoding="utf-8")
    (problem,) = problems_of(copy)
    assert problem.startswith(f"{vaxjo}: not valid YAML: ")
    assert "\n" not in problem  # one problem, one line


def test_a_file_that_is_not_a_mapping_is_refused_naming_the_file(copy: Path) -> None:
    vaxjo = municipality_file(copy, "vaxjo")
    vaxjo.write_text("- extends: se\n", encoding="utf-8")
    assert problems_of(copy) == [f"{vaxjo}: expected a mapping at the top level"]


def test_a_municipality_file_whose_code_differs_from_its_file_name_is_refused(copy: Path) -> None:
    karlskrona = municipality_file(copy, "karlskrona")
    edit(karlskrona, lambda d: d.update(code="ronneby"))
    assert problems_of(copy) == [f"{karlskrona}: code: 'ronneby' must match the file name 'karlskrona'"]


def test_a_default_team_that_is_not_one_of_the_teams_is_refused(copy: Path) -> None:
    karlskrona = municipality_file(copy, "karlskrona")
    edit(karlskrona, lambda d: d.update(default_team="nobody"))
    assert problems_of(copy) == [f"{karlskrona}: default_team: 'nobody' is not one of the teams arbetsmarknad"]


def test_a_missing_required_key_is_refused(copy: Path) -> None:
    karlskrona = municipality_file(copy, "karlskrona")
    edit(karlskrona, lambda d: d.pop("name"))
    assert problems_of(copy) == [f"{karlskrona}: name: required key is missing"]


def test_problems_in_several_files_are_all_reported_at_once(copy: Path) -> None:
    karlskrona, allerod = municipality_file(copy, "karlskrona"), municipality_file(copy, "allerod")
    edit(karlskrona, lambda d: d.update(colour="blue"))
    edit(allerod, lambda d: d.update(extends="fi"))
    problems = problems_of(copy)
    assert f"{karlskrona}: colour: unknown key" in problems
    assert f"{allerod}: extends: unknown baseline 'fi'; baselines: dk, se" in problems
    assert len(problems) == 2


def test_a_config_error_reads_as_one_problem_per_line(copy: Path) -> None:
    edit(municipality_file(copy, "karlskrona"), lambda d: d.update(colour="blue"))
    edit(municipality_file(copy, "allerod"), lambda d: d.update(extends="fi"))
    with pytest.raises(ConfigError) as caught:
        load(copy)
    assert str(caught.value) == "\n".join(caught.value.problems)
    assert isinstance(caught.value, ValueError)


# -- refusals caused by a national file -----------------------------------------------------------


def test_a_mistake_in_a_national_file_is_reported_against_the_national_file(copy: Path) -> None:
    dk = national_file(copy, "dk")
    edit(dk, lambda d: d["deadlines"]["plan"].update(due="-2 weeks"))
    problems = problems_of(copy)
    assert problems  # the baseline itself, and Allerød which inherits the rule
    for problem in problems:
        assert problem == f"{dk}: deadlines.plan.due: '-2 weeks': a duration must be positive"
        assert "allerod.yaml" not in problem


def test_an_unknown_key_in_a_national_file_is_reported_against_the_national_file(copy: Path) -> None:
    se = national_file(copy, "se")
    edit(se, lambda d: d["calendars"]["office"].update(closing_dayz=["12-24"]))
    problems = problems_of(copy)
    assert problems
    assert set(problems) == {f"{se}: calendars.office.closing_dayz: unknown key"}


def test_a_bad_opening_window_in_a_national_file_names_the_national_file_and_the_weekday(copy: Path) -> None:
    se = national_file(copy, "se")
    edit(se, lambda d: d["calendars"]["office"]["opening_hours"].update(fri="15:00-08:00"))
    problems = problems_of(copy)
    assert problems
    assert set(problems) == {f"{se}: calendars.office.opening_hours.fri: '15:00-08:00' closes before it opens"}


def test_an_unknown_weekday_in_a_national_file_is_refused(copy: Path) -> None:
    se = national_file(copy, "se")
    edit(se, lambda d: d["calendars"]["office"]["opening_hours"].update(fre="08:00-15:00"))
    problems = problems_of(copy)
    assert problems
    for problem in problems:
        assert problem.startswith(f"{se}: calendars.office: opening_hours: unknown weekday 'fre'")


def test_a_bad_closing_day_in_a_national_file_is_refused(copy: Path) -> None:
    se = national_file(copy, "se")
    edit(se, lambda d: d["calendars"]["office"].update(closing_days=["12-32"]))
    problems = problems_of(copy)
    assert problems
    assert set(problems) == {f"{se}: calendars.office: closing_days: '12-32' is not YYYY-MM-DD or MM-DD"}


def test_a_malformed_national_file_is_reported_against_the_national_file(copy: Path) -> None:
    se = national_file(copy, "se")
    se.write_text("version: [\n", encoding="utf-8")
    problems = problems_of(copy)
    assert any(problem.startswith(f"{se}: not valid YAML: ") for problem in problems)


def test_a_deadline_missing_from_a_baseline_is_refused_for_each_municipality_naming_both_files(copy: Path) -> None:
    se = national_file(copy, "se")
    edit(se, lambda d: d["deadlines"].pop("exit_plan"))
    problems = problems_of(copy)
    for code in SWEDISH:
        assert (
            f"{municipality_file(copy, code)} (merged with {se}): deadlines: missing exit_plan"
            " (every journey deadline needs a rule)"
        ) in problems


# -- where the config lives -----------------------------------------------------------------------


def test_config_dir_defaults_to_the_bundled_config() -> None:
    assert config_dir() == DEFAULT_CONFIG_DIR == REAL_CONFIG


def test_config_dir_honours_the_activation_config_dir_environment_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(ENV_CONFIG_DIR, str(tmp_path))
    assert ENV_CONFIG_DIR == "ACTIVATION_CONFIG_DIR"
    assert config_dir() == tmp_path


def test_an_explicit_config_dir_wins_over_the_environment_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(ENV_CONFIG_DIR, str(tmp_path / "from-env"))
    assert config_dir(tmp_path / "explicit") == tmp_path / "explicit"
    assert config_dir(str(tmp_path / "explicit")) == tmp_path / "explicit"


def test_load_without_arguments_reads_the_directory_named_by_the_environment_variable(
    monkeypatch: pytest.MonkeyPatch, copy: Path
) -> None:
    edit(municipality_file(copy, "karlskrona"), lambda d: d["deadlines"]["first_meeting"].update(due="72 hours"))
    monkeypatch.setenv(ENV_CONFIG_DIR, str(copy))
    book = load()
    assert book.directory == copy
    assert str(book.municipality("karlskrona").deadlines["first_meeting"].due) == "72 hours"


def test_a_missing_config_directory_is_refused_mentioning_the_environment_variable(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    assert problems_of(missing) == [
        f"{missing}: config directory not found (set ACTIVATION_CONFIG_DIR or --config-dir)"
    ]


def test_a_config_directory_without_municipalities_is_refused(copy: Path) -> None:
    shutil.rmtree(copy / "municipalities")
    assert problems_of(copy) == [f"{copy / 'municipalities'}: no municipality files (*.yaml)"]
