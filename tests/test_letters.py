"""Pending letters are rendered by one use case, whoever recorded the outcome that queued them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from activation.letters import LetterError, render_pending_letters
from activation.model import LetterRequest
from tests.fakes import FakeStore

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


def _queue(store: FakeStore, *forms: str) -> None:
    with store.transaction() as tx:
        tx.add_letters(
            [LetterRequest(f"c-1.{n}:{form}", "c-1", f"c-1.{n}", form, "sv", {"n": n}) for n, form in enumerate(forms)],
            NOW,
        )


def _render(form: str, language: str, context: dict[str, Any]) -> tuple[str, str | None]:
    if form == "broken":
        raise LetterError("broken: case_id: field required")
    return f"{form} in {language} #{context['n']}", None


def test_every_pending_letter_is_rendered_batch_after_batch() -> None:
    store = FakeStore()
    _queue(store, *["plan_letter"] * 5)

    report = render_pending_letters(store, _render, NOW, batch=2)

    assert (report.rendered, report.failed, report.batches) == (5, [], 3)
    with store.transaction() as tx:
        assert tx.pending_letters(10) == []


def test_a_letter_that_does_not_fit_its_form_stays_pending_and_does_not_hold_up_the_others() -> None:
    store = FakeStore()
    _queue(store, "broken", "plan_letter", "exit_summary")

    report = render_pending_letters(store, _render, NOW, batch=1)

    assert report.rendered == 2
    assert report.failed == [("c-1.0:broken", "c-1", "broken: case_id: field required")]
    with store.transaction() as tx:
        assert [x.form for x in tx.pending_letters(10)] == ["broken"]
