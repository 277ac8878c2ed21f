"""Render the letters waiting for it, whoever recorded the outcome that queued them (flow, web, API, CLI)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from activation.ports import Letters, UnitOfWork


class LetterError(ValueError):
    """A letter whose content does not fit its form: it stays pending and is reported."""


class Renderer(Protocol):
    """Turns a form, a language and the letter's content into its text and an optional .ics file."""

    def __call__(self, form: str, language: str, context: dict[str, Any]) -> tuple[str, str | None]: ...


@dataclass
class LettersRendered:
    """What one pass did: letters rendered, letters that could not be, and how many were waiting."""

    rendered: int = 0
    failed: list[tuple[str, str, str]] = field(default_factory=list)  # (letter id, case id, why)
    pending: int = 0
    batches: int = 0


def render_pending_letters(
    store: UnitOfWork[Letters], render: Renderer, now: datetime, batch: int = 500, max_batches: int | None = None
) -> LettersRendered:
    """Render pending letters batch after batch until none is left that can be rendered."""
    report = LettersRendered()
    skip: set[str] = set()  # letters that failed in this pass stay pending; do not try them again now
    while max_batches is None or report.batches < max_batches:
        with store.transaction() as tx:
            pending = [x for x in tx.pending_letters(batch + len(skip)) if x.id not in skip][:batch]
        report.batches += 1
        report.pending += len(pending)
        rendered: list[tuple[str, str, str | None]] = []
        for letter in pending:
            try:
                body, attachment = render(letter.form, letter.language, letter.context)
            except LetterError as exc:
                skip.add(letter.id)
                report.failed.append((letter.id, letter.case_id, str(exc)))
                continue
            rendered.append((letter.id, body, attachment))
        if rendered:
            with store.transaction() as tx:
                tx.save_rendered(rendered, now)
        report.rendered += len(rendered)
        if len(pending) < batch:
            break  # each full batch rendered or set aside at least one letter, so this ends
    return report
