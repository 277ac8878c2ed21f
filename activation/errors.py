"""Errors a user can act on."""

from __future__ import annotations


class InputError(ValueError):
    """Input a user can fix: unknown to-do, wrong outcome, unknown team, overlapping pause.

    `fields` maps a form field to its problem, so a form can show each next to its field.
    """

    def __init__(self, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.fields = dict(fields or {})
