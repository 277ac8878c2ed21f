"""Versions of a municipality's rules with effective dates, and what they do to running cases.

Karlskrona changes its first-meeting rule from 48 hours to 3 working days with "recompute open
deadlines": the preview says how many deadlines move; applying moves exactly those.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from activation import config, pauses, services
from activation.adapters import tables as t
from activation.adapters.sql import SqlStore
from activation.config import ConfigError, RuleBook
from activation.errors import InputError
from activation.ports import TodoFilter
from activation.rule_change import apply_version, preview_version
from tests.conftest import at

ROOT = Path(__file__).resolve().parent.parent
THREE_WORKING_DAYS = """\
version: karlskrona-2026.2
effective_from: 2026-12-01
note: First meeting within 3 working days instead of 48 hours.
transition:
  first_meeting: {policy}
changes:
  deadlines:
    first_meeting:
      due: 3 working days
      remind_before: [1 working day]
      escalate_after:
        - {{after: 1 working hour, notify: team_lead}}
      source: "Proposed local rule: 3 working days (a manager's what-if)"
      local_choice: true
"""


def versioned_rules(tmp_path: Path, policy: str = "recompute") -> RuleBook:
    directory = tmp_path / "config"
    shutil.copytree(ROOT / "config", directory)
    (directory / "versions" / "karlskrona").mkdir(parents=True)
    (directory / "versions" / "karlskrona" / "2026.2.yaml").write_text(THREE_WORKING_DAYS.format(policy=policy))
    return config.load(directory)


def test_a_version_applies_from_its_effective_date_in_the_municipality(tmp_path: Path) -> None:
    rules = versioned_rules(tmp_path)
    before = rules.in_force("karlskrona", at("2026-11-30 23:59"))
    after = rules.in_force("karlskrona", at("2026-12-01 00:00"))
    # Before: Karlskrona's own rules over SoL 2025:400 (the national version from 1 July 2025).
    assert before.version == "se-2025-07" and str(before.municipality.rule("first_meeting").due) == "48 hours"
    assert after.version == "karlskrona-2026.2" and str(after.municipality.rule("first_meeting").due) == (
        "3 working days"
    )
    assert after.stamp.startswith("karlskrona-2026.2+")


def test_a_bad_version_file_is_refused_naming_file_and_key(tmp_path: Path) -> None:
    directory = tmp_path / "config"
    shutil.copytree(ROOT / "config", directory)
    (directory / "versions" / "karlskrona").mkdir(parents=True)
    (directory / "versions" / "karlskrona" / "bad.yaml").write_text(
        THREE_WORKING_DAYS.format(policy="sometimes").replace("3 working days", "-3 working days")
    )
    with pytest.raises(ConfigError) as refused:
        config.load(directory)
    assert "bad.yaml: transition.first_meeting" in str(refused.value)


def test_new_applications_after_the_effective_date_get_the_new_rule_and_its_version(
    store: SqlStore, tmp_path: Path
) -> None:
    rules = versioned_rules(tmp_path)
    old = services.record_application(store, rules, "karlskrona", "ref-old", at("2026-11-27 15:00")).case_id
    new = services.record_application(store, rules, "karlskrona", "ref-new", at("2026-12-04 15:00")).case_id
    services.advance_cases(store, rules, at("2026-12-04 15:05"))
    with store.reads() as reads:
        deadlines = {
            d.case_id: d for d in reads.list_deadlines(municipality="karlskrona") if d.rule_key == "first_meeting"
        }
    assert deadlines[old].config_version.startswith("se-2025-07+")  # Karlskrona's rules over SoL 2025:400
    assert deadlines[new].config_version.startswith("karlskrona-2026.2+")
    assert deadlines[new].due_at == at("2026-12-10 08:00")  # Friday 15:00 + Mon, Tue, Wed: Thursday at opening


def _running_cases(store: SqlStore, rules: RuleBook) -> tuple[list[str], str]:
    """Four Karlskrona cases with open first meetings, one whose meeting was held, and one in Växjö."""
    open_ids = [
        services.record_application(store, rules, "karlskrona", f"ref-open-{n}", at(f"2026-11-2{n} 10:00")).case_id
        for n in range(3, 7)
    ]
    held = services.record_application(store, rules, "karlskrona", "ref-held", at("2026-11-23 11:00")).case_id
    services.record_application(store, rules, "vaxjo", "ref-vaxjo", at("2026-11-23 11:00"))
    services.advance_cases(store, rules, at("2026-11-26 12:00"))
    services.complete_todo(store, f"{held}.0", "held", at("2026-11-26 13:00"), "cw-01", None, rules)
    services.advance_cases(store, rules, at("2026-11-26 13:05"))
    return open_ids, held


def test_recompute_moves_exactly_the_open_first_meeting_deadlines_as_the_preview_predicted(
    store: SqlStore, tmp_path: Path
) -> None:
    rules = versioned_rules(tmp_path, "recompute")
    open_ids, _held = _running_cases(store, rules)
    now = at("2026-12-01 08:00")

    preview = preview_version(store, rules, "karlskrona", "karlskrona-2026.2", now)
    predicted = preview.summary()
    with store.reads() as reads:
        untouched = {d.id: d.due_at for d in reads.list_deadlines(limit=1000)}
    assert predicted["moved"] == 4 and predicted["moved_per_rule"] == {"first_meeting": 4}
    assert predicted["changed_rules"] == ["first_meeting"]

    applied = apply_version(store, rules, "karlskrona", "karlskrona-2026.2", now, by="mgr-01").summary()
    assert {k: v for k, v in applied.items() if k != "applied"} == {
        k: v for k, v in predicted.items() if k != "applied"
    }
    with store.reads() as reads:
        after = {d.id: d for d in reads.list_deadlines(limit=1000)}
    moved = {i for i, d in after.items() if d.due_at != untouched[i]}
    assert moved == {f"{case_id}.0" for case_id in open_ids}
    assert all(after[i].config_version.startswith("karlskrona-2026.2+") for i in moved)
    assert all(not d.config_version.startswith("karlskrona-2026.2+") for i, d in after.items() if i not in moved)
    # Monday 23 Nov 10:00 + 3 working days = Thursday 26 Nov 10:00 (was Wednesday 25 Nov 10:00).
    assert after[f"{open_ids[0]}.0"].due_at == at("2026-11-26 10:00")
    with store.engine.connect() as conn:
        history = conn.execute(
            select(t.deadline_changes.c.reason).where(t.deadline_changes.c.deadline_id == f"{open_ids[0]}.0")
        ).scalar_one()
        recorded = conn.execute(select(t.rule_changes.c.moved, t.rule_changes.c.applied_by)).one()
    assert "rule version karlskrona-2026.2" in history and "3 working days" in history
    assert tuple(recorded) == (4, "mgr-01")
    # Applying again changes nothing: those deadlines already carry the version.
    again = apply_version(store, rules, "karlskrona", "karlskrona-2026.2", now).summary()
    assert again["moved"] == 0 and again["already_applied"] == 4


def test_the_preview_counts_escalations_that_would_fire_at_once(store: SqlStore, tmp_path: Path) -> None:
    rules = versioned_rules(tmp_path, "recompute")
    _running_cases(store, rules)
    # On Tue 1 Dec 08:00 three recomputed deadlines (Thu 26, Fri 27, Mon 30 Nov 10:00) are past, so
    # their first escalation (1 working hour after) is due at once; the fourth (Tue 1 Dec 10:00) is
    # not, but its reminder (1 working day before: Mon 30 Nov 10:00) is.
    summary = preview_version(store, rules, "karlskrona", "karlskrona-2026.2", at("2026-12-01 08:00")).summary()
    assert summary["fire_at_once"] == {"escalations": {"arbetsmarknad": 3}, "reminders": {"arbetsmarknad": 1}}
    assert (summary["later"], summary["hours_min"], summary["hours_max"]) == (4, 17.5, 72.0)


@pytest.mark.parametrize("policy", ["keep", "not_started"])
def test_keep_and_not_started_leave_running_deadlines_where_they_are(
    store: SqlStore, tmp_path: Path, policy: str
) -> None:
    rules = versioned_rules(tmp_path, policy)
    _running_cases(store, rules)
    summary = apply_version(store, rules, "karlskrona", "karlskrona-2026.2", at("2026-12-01 08:00")).summary()
    assert summary["moved"] == 0 and summary["kept"] == {"first_meeting": 4}


ASSESSMENT_IN_TWO_WEEKS = """\
version: karlskrona-2026.3
effective_from: 2026-12-01
transition:
  assessment: keep
changes:
  deadlines:
    assessment:
      due: 2 weeks
      remind_before: [3 working days]
      escalate_after:
        - {after: 2 working days, notify: team_lead}
      source: "Proposed: assessment within 2 weeks"
      local_choice: true
"""


def test_keep_leaves_cases_opened_before_the_version_on_the_old_rule(store: SqlStore, tmp_path: Path) -> None:
    directory = tmp_path / "config"
    shutil.copytree(ROOT / "config", directory)
    (directory / "versions" / "karlskrona").mkdir(parents=True)
    (directory / "versions" / "karlskrona" / "2026.3.yaml").write_text(ASSESSMENT_IN_TWO_WEEKS)
    rules = config.load(directory)
    before = services.record_application(store, rules, "karlskrona", "ref-before", at("2026-11-27 10:00")).case_id
    after = services.record_application(store, rules, "karlskrona", "ref-after", at("2026-12-01 10:00")).case_id
    services.advance_cases(store, rules, at("2026-12-01 10:05"))
    for case_id in (before, after):  # both first meetings held on the same day, after the version took effect
        services.complete_todo(store, f"{case_id}.0", "held", at("2026-12-02 09:00"), "cw-01", None, rules)
    services.advance_cases(store, rules, at("2026-12-02 09:05"))
    with store.transaction() as tx:
        due = {
            x.case_id: x.due_at for x in tx.list_todos(TodoFilter(municipality="karlskrona")) if x.kind == "assessment"
        }
    assert due[before] == at("2026-12-23 09:00")  # 3 weeks: opened before, kept on the old rule
    assert due[after] == at("2026-12-16 09:00")  # 2 weeks: the new rule


def test_applying_before_the_effective_date_is_refused(store: SqlStore, tmp_path: Path) -> None:
    rules = versioned_rules(tmp_path)
    with pytest.raises(InputError, match="takes effect on 2026-12-01"):
        apply_version(store, rules, "karlskrona", "karlskrona-2026.2", at("2026-11-30 12:00"))


def test_config_diff_then_apply_on_the_command_line_report_the_same_figures(tmp_path: Path) -> None:
    import json

    from activation import runtime
    from tests.test_cli import run

    rules = versioned_rules(tmp_path, "recompute")
    rt = runtime.get_runtime(f"sqlite:///{tmp_path / 'cli.db'}", rules.directory)
    _running_cases(rt.store, rt.rules)
    runtime.reset()
    args = ("--config-dir", str(rules.directory))
    versions = run(tmp_path, *args, "config", "versions", "karlskrona", "--json")
    # Karlskrona's file, the law's SoL 2025:400 from 1 July 2025, its own 2026.2, and the proposed activity requirement.
    assert [v["version"] for v in json.loads(versions.stdout)] == [
        "karlskrona-2026.1",
        "se-2025-07",
        "karlskrona-2026.2",
        "se-2026-07",
    ]
    diff = run(
        tmp_path, *args, "config", "diff", "karlskrona", "karlskrona-2026.2", "--now", "2026-12-01T08:00", "--json"
    )
    assert diff.returncode == 0, diff.stderr
    applied = run(
        tmp_path, *args, "config", "apply", "karlskrona", "karlskrona-2026.2", "--now", "2026-12-01T08:00", "--json"
    )
    assert applied.returncode == 0, applied.stderr
    predicted, done = json.loads(diff.stdout), json.loads(applied.stdout)
    assert predicted["moved"] == done["moved"] == 4
    assert {k: v for k, v in predicted.items() if k != "applied"} == {k: v for k, v in done.items() if k != "applied"}
    shown = run(tmp_path, *args, "config", "versions", "karlskrona")
    assert "4 moved" in shown.stdout
    early = run(tmp_path, *args, "config", "apply", "karlskrona", "karlskrona-2026.2", "--now", "2026-11-20T08:00")
    assert early.returncode == 2 and "takes effect on 2026-12-01" in early.stderr


def test_the_console_previews_a_version_and_applies_exactly_that(tmp_path: Path) -> None:
    from activation.adapters.accounts import Accounts
    from tests.web_support import csrf_of, make_web

    rules = versioned_rules(tmp_path, "recompute")
    web = make_web(f"sqlite:///{tmp_path / 'web.db'}", at("2026-12-01 08:00"))
    web.settings.config_dir = str(rules.directory)
    _running_cases(web.rt.store, rules)
    manager = web.client("manager")
    page = manager.get("/console/versions")
    assert page.status_code == 200
    assert "4 open deadlines would move" in page.text and "Apply karlskrona-2026.2" in page.text
    applied = manager.post(
        "/console/versions/karlskrona-2026.2/apply", data={"csrf": csrf_of(page.text)}, follow_redirects=False
    )
    assert applied.status_code == 303
    after = manager.get("/console/versions").text
    assert "4 open deadlines moved" in after
    assert Accounts(web.rt.engine).audit_count("apply_rules") == 1


def test_recompute_after_past_pauses_puts_the_deadline_inside_opening_hours_on_the_new_rules_calendar(
    store: SqlStore, tmp_path: Path
) -> None:
    # Issue 9's reproduction: the pauses' old shift was added as a raw timedelta on top of the new
    # due time (Sun 07 Mar 2027 08:00, Thu 04 Mar 2027 07:00); now the pauses are lived again.
    rules = versioned_rules(tmp_path, "recompute")
    case_id = services.record_application(store, rules, "karlskrona", "ref-paused", at("2026-11-20 15:00")).case_id
    services.advance_cases(store, rules, at("2026-11-20 15:05"))
    sick = pauses.record_pause(store, rules, case_id, "sickness", at("2026-11-18 16:00"), None, at("2026-12-02 08:30"))
    pauses.end_pause(store, rules, sick.pause.id, at("2026-12-01 09:00"), at("2026-12-02 08:31"))
    pauses.record_pause(
        store, rules, case_id, "maternity_leave", at("2026-12-01 10:00"), at("2027-03-01 00:00"), at("2026-12-02 08:32")
    )

    apply_version(store, rules, "karlskrona", "karlskrona-2026.2", at("2026-12-02 09:00"))

    with store.reads() as reads:
        (deadline,) = [d for d in reads.list_deadlines(case_id=case_id) if d.rule_key == "first_meeting"]
    office = rules.municipality("karlskrona").calendar()
    # By hand: 3 working days from Fri 20 Nov 15:00 (closing) = Thu 26 Nov 08:00. The sickness stopped
    # the clock from its start with 25.5 opening hours left (Mon-Wed); resumed Tue 1 Dec 09:00 they end
    # Fri 4 Dec 09:00. Maternity leave from Tue 1 Dec 10:00 leaves 24.5 opening hours (Tue 6.5, Wed 8.5,
    # Thu 8.5, Fri 1); resumed Mon 1 Mar 2027 they end Wed 3 Mar 2027 15:30 (Mon 8.5, Tue 8.5, Wed 7.5).
    assert deadline.due_at == at("2027-03-03 15:30")
    assert office.is_open(deadline.due_at)
