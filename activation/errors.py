"""Errors a user can act on."""


class InputError(ValueError):
    """Input a user can fix: unknown to-do, wrong outcome, unknown team, overlapping pause."""
