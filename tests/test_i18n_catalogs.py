"""The message catalogs: extracted from the code as committed, complete in Danish and Swedish, one glossary."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from activation import config, journey, records
from activation.lifecycle import AlarmState, CaseStatus, DeadlineStatus, TodoStatus
from tests.i18n_support import forms
from web import i18n
from web.glossary import TERMS

ROOT = Path(__file__).resolve().parent.parent
TRANSLATED = ("da", "sv")  # English is the source language: its msgstrs may stay empty
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
Key = tuple[str | None, str]


def _key(message_id: object, context: str | None) -> Key:
    return context, forms(message_id)[0]


def extracted() -> set[Key]:
    """Extract every message from the web application as `pybabel extract -F babel.cfg -k T_:1c,2` does."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)  # type: ignore[no-untyped-call]
    keywords = {**DEFAULT_KEYWORDS, **i18n.KEYWORDS}
    found = extract_from_dir(str(ROOT), method_map, options_map, keywords=keywords)
    return {_key(message, context) for _file, _line, message, _comments, context in found}


def catalog(path: Path, language: str | None = None) -> Catalog:
    """Read a .po or .pot file."""
    with path.open("rb") as f:
        return read_po(f, locale=language)


def keys(cat: Catalog) -> set[Key]:
    """Return the (context, msgid) of every message of a catalog."""
    return {_key(m.id, m.context) for m in cat if m.id}


def test_the_committed_template_holds_exactly_what_the_code_and_templates_say() -> None:
    # A string added, changed or removed without `pybabel extract` fails here (README "Languages").
    in_code = extracted()
    committed = keys(catalog(i18n.LOCALE_DIR / "messages.pot"))
    assert sorted(in_code - committed, key=str) == [], "run pybabel extract: these are not in messages.pot"
    assert sorted(committed - in_code, key=str) == [], "run pybabel extract: these are no longer in the code"


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_every_catalog_has_the_templates_messages_and_no_others(language: str) -> None:
    template = keys(catalog(i18n.LOCALE_DIR / "messages.pot"))
    assert keys(catalog(i18n.catalog_path(language), language)) == template, "run pybabel update"


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_has_a_translation_in_danish_and_swedish(language: str) -> None:
    untranslated = [
        _key(m.id, m.context)
        for m in catalog(i18n.catalog_path(language), language)
        if m.id and (m.fuzzy or not all(forms(m.string)))
    ]
    assert untranslated == [], f"{language}: no (or a fuzzy) translation for {untranslated}"


@pytest.mark.parametrize("language", TRANSLATED)
def test_a_translation_fills_the_same_placeholders_as_its_message(language: str) -> None:
    wrong = []
    for m in catalog(i18n.catalog_path(language), language):
        if not m.id:
            continue
        wanted = set(PLACEHOLDER.findall(forms(m.id)[-1]))
        for text in forms(m.string):
            if set(PLACEHOLDER.findall(text)) != wanted:
                wrong.append((m.id, text))
    assert wrong == []


def test_the_catalogs_compile_and_translate() -> None:
    i18n.use("sv")
    try:
        assert i18n._("Inbox") == "Att göra"
        assert i18n.pgettext("stage", "Follow-up") == "Uppföljning"
        assert i18n.ngettext("%(num)d working day", "%(num)d working days", 3) == "3 arbetsdagar"
    finally:
        i18n.use(i18n.DEFAULT)


def _journey_keys() -> dict[str, set[str]]:
    stages = {s.name for s in journey.JOURNEY}
    todos = {s.todo.kind for s in journey.JOURNEY if s.todo}
    outcomes: set[str] = set()
    for s in journey.JOURNEY:
        for outcome, go in s.outcomes.items():
            outcomes.add(outcome)
            todos.update({go.todo.kind} if go.todo else set())
            for also in go.also:
                todos.add(also.todo.kind)
                outcomes.update(also.outcomes)
    for also in (*journey.STARTERS.values(), *journey.FOLLOWS.values()):
        todos.add(also.todo.kind)
        outcomes.update(also.outcomes)
    records_made = {go.record for s in journey.JOURNEY for go in s.outcomes.values() if go.record}
    return {
        "stage": stages,
        "todo": todos,
        "outcome": outcomes,
        "record": records_made,
        "deadline": set(journey.deadline_keys()),
        "exit_reason": {r.value for r in records.ExitReason},
        "barrier": {b.value for b in records.Barrier},
        "ladder": {step.value for step in records.LadderStep},
        "role": set(journey.ROLES),
        "alarm_state": {s.value for s in AlarmState},
        "status": {s.value for s in (*CaseStatus, *TodoStatus, *DeadlineStatus)},
    }


def test_the_glossary_names_every_stage_to_do_outcome_deadline_and_record_choice_of_the_journey() -> None:
    missing = {kind: sorted(wanted - set(TERMS[kind])) for kind, wanted in _journey_keys().items()}
    assert {kind: keys for kind, keys in missing.items() if keys} == {}


def test_the_glossary_names_every_group_cadence_and_pause_basis_the_municipalities_configure() -> None:
    rules = config.load()
    missing = set()
    for m in rules.municipalities.values():
        missing |= {("group", g) for g in m.groups if g not in TERMS["group"]}
        missing |= {("cadence", c) for g in m.groups.values() for c in g.cadences if c not in TERMS["cadence"]}
        missing |= {("pause", p) for p in m.pause_bases if p not in TERMS["pause"]}
        missing |= {("calendar", c) for c in m.calendars if c not in TERMS["calendar"]}
    assert missing == set()
