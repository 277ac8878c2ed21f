"""The law over time: national versions under the municipality's own rules, applied by date, bills never.

Allerød (Danish calendar: Mon-Wed 08:00-15:30, Thu 08:00-17:00, Fri 08:00-13:00) gets LAB 2019 from
2020, the new cash-benefit system from 1 July 2025 and the employment reform from 2026; every due date
below is worked out by hand from those opening hours.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml

import forms
from activation import case_events, config, services
from activation.adapters.accounts import Accounts
from activation.adapters.sql import SqlStore
from activation.config import ConfigError, RuleBook
from activation.errors import ConflictError
from activation.rule_change import apply_version, preview_version
from tests.conftest import COPENHAGEN, at
from tests.fakes import FakeStore
from tests.forms_filled import filled
from tests.test_cli import run
from tests.test_cli_errors import assert_one_line_mistake

ROOT = Path(__file__).resolve().parent.parent


def dk(text: str) -> datetime:
    return at(text, COPENHAGEN)


def _deadline(store: SqlStore, case_id: str, rule_key: str) -> tuple[datetime, str]:
    with store.reads() as reads:
        [found] = [
            d
            for d in reads.list_deadlines(case_id=case_id)  # open deadlines only
            if d.rule_key == rule_key
        ]
    return found.due_at, found.config_version


def _education_ready_case(store: SqlStore, rules: RuleBook, ref: str, opened: datetime) -> str:
    case_id = services.record_application(store, rules, "allerod", ref, opened, group="education_ready").case_id
    services.advance_cases(store, rules, opened)
    return case_id


def test_allerod_cases_opened_in_2025_and_2026_get_the_rules_of_their_dates(store: SqlStore, rules: RuleBook) -> None:
    early = _education_ready_case(store, rules, "dk-early", dk("2025-03-01 10:00"))
    late = _education_ready_case(store, rules, "dk-late", dk("2026-09-01 10:00"))
    # 1 March 2025 (a Saturday): LAB 2019 in force, the offer within 1 month (continuous ret og pligt):
    # Tuesday 1 April 2025 10:00, open.
    assert _deadline(store, early, "education_ready.offer")[0] == dk("2025-04-01 10:00")
    assert _deadline(store, early, "education_ready.offer")[1].startswith("dk-2020-01+")
    # 1 September 2026: the reform of 1 July 2026, an offer in the first 6 months: Monday 1 March 2027 10:00.
    assert _deadline(store, late, "education_ready.offer")[0] == dk("2027-03-01 10:00")
    assert _deadline(store, late, "education_ready.offer")[1].startswith("dk-2026-07+")
    # Allerød's own first-meeting rule stays on top of the law in both: 4 weeks. Saturday 29 March 2025
    # is closed, so the end of Monday's opening; Tuesday 29 September 2026 10:00 is open.
    assert _deadline(store, early, "first_meeting")[0] == dk("2025-03-31 15:30")
    assert _deadline(store, late, "first_meeting")[0] == dk("2026-09-29 10:00")


def test_the_reform_of_1_july_2026_moves_the_open_offer_period_of_a_case_opened_in_2025(
    store: SqlStore, rules: RuleBook
) -> None:
    case_id = _education_ready_case(store, rules, "dk-early", dk("2025-03-01 10:00"))
    # An offer on Monday 15 June 2026: the next within 4 weeks under the rules then (LOV 1750's first
    # date changed no deadline): Monday 13 July 2026 10:00.
    case_events.record_event(
        store, rules, case_id, "offer", dk("2026-06-15 10:00"), dk("2026-06-15 11:00"), "cw-01", None
    )
    assert _deadline(store, case_id, "education_ready.offer") == (
        dk("2026-07-13 10:00"),
        rules.in_force("allerod", dk("2026-06-15 10:00")).stamp,
    )
    now = dk("2026-07-01 08:00")
    preview = preview_version(store, rules, "allerod", "dk-2026-07", now).summary()
    assert preview["moved_per_rule"] == {"education_ready.offer": 1}
    applied = apply_version(store, rules, "allerod", "dk-2026-07", now, by="mgr-01").summary()
    assert applied["moved"] == 1 and applied["later"] == 1
    # Policy recompute: 6 months from the period's own start, 15 June 2026 10:00 -> Tuesday 15 December
    # 2026 10:00, inside Tuesday's opening hours.
    due, stamp = _deadline(store, case_id, "education_ready.offer")
    assert due == dk("2026-12-15 10:00") and stamp.startswith("dk-2026-07+")
    # Run again, nothing moves: the open period is already on the new version.
    again = apply_version(store, rules, "allerod", "dk-2026-07", now).summary()
    assert again["moved"] == 0 and again["already_applied"] == 1


def test_a_proposed_version_is_previewed_but_never_applied(store: SqlStore, rules: RuleBook) -> None:
    _education_ready_case(store, rules, "dk-late", dk("2026-09-01 10:00"))
    now = dk("2027-01-04 09:00")
    preview = preview_version(store, rules, "allerod", "dk-2027-01", now)
    assert preview.version == "dk-2027-01" and not preview.applied
    with pytest.raises(ConflictError, match="dk-2027-01 is proposed: it can be previewed"):
        apply_version(store, rules, "allerod", "dk-2027-01", now, by="mgr-01", via="cli")
    with store.reads() as reads:
        assert reads.rule_changes("allerod") == []
    refused = [e for e in Accounts(store.engine).audit_entries("allerod") if e["action"] == "apply_rules"]
    assert [e["detail"] for e in refused] == [
        "dk-2027-01 refused: allerod dk-2027-01 is proposed: it can be previewed (config diff) and simulated"
        " (simulate --compare), not applied"
    ]


def test_the_command_line_refuses_to_apply_a_bill_in_one_line_and_lists_the_law(tmp_path: Path) -> None:
    assert run(tmp_path, "init").returncode == 0
    refused = run(tmp_path, "config", "apply", "dk", "dk-2027-01", "--now", "2027-01-04T09:00")
    assert_one_line_mistake(refused, "dk-2027-01 is proposed")
    listed = run(tmp_path, "config", "versions", "dk", "--json")
    versions = {v["version"]: v for v in json.loads(listed.stdout)}
    assert {k: v["status"] for k, v in versions.items()} == {
        "dk-2017.1": "repealed",
        "dk-2020-01": "in_force",
        "dk-2025-07": "in_force",
        "dk-2026-01": "in_force",
        "dk-2026-02": "in_force",
        "dk-2026-07": "adopted",
        "dk-2027-01": "proposed",
    }
    assert versions["dk-2020-01"]["effective_from"] == "2020-01-01"
    assert "https://www.elov.dk/lov-om-en-aktiv-beskaeftigelsesindsats/paragraf/31/" in [
        s["url"] for s in versions["dk-2020-01"]["sources"]
    ]
    assert versions["dk-2020-01"]["overridden_by"] == {"allerod": ["first_meeting"]}
    table = run(tmp_path, "config", "versions", "se")
    assert table.returncode == 0
    for text in ("se-2025-07", "adopted", "se-2026-07", "proposed", "https://lagen.nu/prop/2024/25:89"):
        assert text in table.stdout


def test_the_console_lists_the_law_and_refuses_a_bill_with_409_audited(tmp_path: Path) -> None:
    from tests.web_support import csrf_of, make_web

    web = make_web(f"sqlite:///{tmp_path / 'web.db'}", at("2026-12-01 08:00"))
    manager = web.client("manager")
    page = manager.get("/console/versions")
    assert page.status_code == 200
    assert "se-2025-07" in page.text and "se-2026-07" in page.text and "https://lagen.nu/prop/2024/25:89" in page.text
    refused = manager.post("/console/versions/se-2026-07/apply", data={"csrf": csrf_of(page.text)})
    assert refused.status_code == 409
    assert "se-2026-07" in refused.text and "Apply se-2026-07" not in page.text
    entries = Accounts(web.rt.engine).audit_entries("karlskrona")
    details = [e["detail"] or "" for e in entries if e["action"] == "apply_rules"]
    assert len(details) == 1 and details[0].startswith("se-2026-07 refused:")


def test_the_municipality_file_stays_on_top_of_the_law_and_without_it_the_law_applies(tmp_path: Path) -> None:
    rules = config.load()
    assert str(rules.in_force("allerod", dk("2026-09-01 10:00")).municipality.rule("first_meeting").due) == "4 weeks"
    directory = tmp_path / "config"
    shutil.copytree(ROOT / "config", directory)
    allerod = directory / "municipalities" / "allerod.yaml"
    data = yaml.safe_load(allerod.read_text(encoding="utf-8"))
    del data["deadlines"]
    allerod.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    bare = config.load(directory)
    # The 2017 baseline's local choice until 2020, then LAB § 31 stk. 5: 1 week.
    assert str(bare.in_force("allerod", dk("2019-12-31 10:00")).municipality.rule("first_meeting").due) == "1 month"
    assert str(bare.in_force("allerod", dk("2020-01-01 10:00")).municipality.rule("first_meeting").due) == "1 week"
    # LAB 2019 ended "4 job conversations in any 12 months" for activity-ready citizens.
    assert "activity_ready.conversations" in bare.in_force("allerod", dk("2019-12-31 10:00")).municipality.cadences(
        "activity_ready"
    )
    assert "activity_ready.conversations" not in bare.in_force("allerod", dk("2020-01-01 10:00")).municipality.cadences(
        "activity_ready"
    )


def test_a_version_marked_in_force_with_values_to_verify_is_refused(tmp_path: Path) -> None:
    directory = tmp_path / "config"
    shutil.copytree(ROOT / "config", directory)
    bill = directory / "national" / "dk" / "2027-01.yaml"
    bill.write_text(bill.read_text(encoding="utf-8").replace("status: proposed", "status: in_force"))
    with pytest.raises(ConfigError) as refused:
        config.load(directory)
    assert "2027-01.yaml: status: in_force with open `verify:` notes" in str(refused.value)


def test_swedish_rules_name_the_act_of_their_date() -> None:
    rules = config.load()
    before = rules.in_force("karlskrona", at("2025-06-30 12:00")).municipality
    after = rules.in_force("karlskrona", at("2025-07-01 12:00")).municipality
    assert (before.legal_basis, after.legal_basis) == ("socialtjänstlagen (2001:453)", "socialtjänstlagen (2025:400)")


def _assessed(store: FakeStore, rules: RuleBook, ref: str, opened: datetime) -> str:
    """Walk a Karlskrona case to its assessment letter: first meeting held, assessment completed."""
    case_id = services.record_application(store, rules, "karlskrona", ref, opened).case_id
    services.advance_cases(store, rules, opened)
    later = opened + timedelta(days=1)
    services.complete_todo(store, f"{case_id}.0", "held", later, data=filled("held"))
    services.advance_cases(store, rules, later)
    services.complete_todo(store, f"{case_id}.1", "completed", later, data=filled("completed"))
    services.advance_cases(store, rules, later)
    [letter] = [r["letter"] for r in store.state.letters.values() if r["letter"].case_id == case_id
                and r["letter"].form == "assessment_letter"]  # fmt: skip
    return str(forms.render(letter.form, letter.language, letter.context))


def test_a_swedish_letter_cites_the_act_of_the_day_the_case_was_opened(rules: RuleBook) -> None:
    store = FakeStore()
    old = _assessed(store, rules, "se-old", at("2025-06-30 10:00"))
    new = _assessed(store, rules, "se-new", at("2025-07-01 10:00"))
    assert "Lagrum: socialtjänstlagen (2001:453)." in old
    assert "Lagrum: socialtjänstlagen (2025:400)." in new and "2001:453" not in new


def test_a_repealed_national_version_keeps_its_period_but_is_not_applied_again(store: SqlStore, tmp_path: Path) -> None:
    directory = tmp_path / "config"
    shutil.copytree(ROOT / "config", directory)
    lab = directory / "national" / "dk" / "2020-01.yaml"
    lab.write_text(lab.read_text(encoding="utf-8").replace("status: in_force", "status: repealed"))
    rules = config.load(directory)
    # Still the rules of its own period ...
    assert rules.in_force("allerod", dk("2024-01-02 10:00")).version == "dk-2020-01"
    # ... but never applied to running cases again.
    with pytest.raises(ConflictError, match="dk-2020-01 is repealed"):
        apply_version(store, rules, "allerod", "dk-2020-01", dk("2026-12-01 09:00"), by="mgr-01")
