"""Errors a user can act on, each of a kind an entry point maps to its own answer."""

from __future__ import annotations

from typing import ClassVar


class InputError(ValueError):
    """Input a user can fix: a wrong outcome, an unknown team, an overlapping pause.

    `fields` maps a form field to its problem, so a form can show each next to its field. `kind`
    tells an entry point how to answer: `input` (422), `not_found` (404), `conflict` (409).
    """

    kind: ClassVar[str] = "input"

    def __init__(self, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.fields = dict(fields or {})

    @property
    def field(self) -> str | None:
        """Return the first field the problem is about, if any."""
        return next(iter(self.fields), None)


class NotFoundError(InputError):
    """Something the user named does not exist, or is not theirs to see (the two answer alike)."""

    kind: ClassVar[str] = "not_found"


class AccessDenied(NotFoundError):
    """The thing exists but is not the user's to see: answered exactly as not found, and audited as denied.

    `case_id` and `municipality` say whose it was, for the audit log the municipality's managers read;
    they are never shown to the user who was refused.
    """

    def __init__(
        self,
        message: str,
        fields: dict[str, str] | None = None,
        case_id: str | None = None,
        municipality: str | None = None,
    ) -> None:
        super().__init__(message, fields)
        self.case_id = case_id
        self.municipality = municipality


class ForbiddenError(InputError):
    """The user may see the thing but not do this to it (a to-do held by someone else)."""

    kind: ClassVar[str] = "forbidden"


class ConflictError(InputError):
    """The request is well formed but the thing is not in a state that allows it (already done)."""

    kind: ClassVar[str] = "conflict"


HTTP_STATUS = {"input": 422, "not_found": 404, "forbidden": 403, "conflict": 409}
