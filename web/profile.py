"""The profile page: who I am, and the language I read the pages in."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from activation.adapters.accounts import AuditEntry
from web import i18n
from web.app import accounts, check_csrf, clock, page, require
from web.i18n import N_, _

router = APIRouter(include_in_schema=False)

# Each language is named in itself, so a user who picked one they cannot read finds their own again.
NAMES = {"da": "Dansk", "sv": "Svenska", "en": "English"}
MUNICIPALITY_DEFAULT = ""  # the form's value for "my municipality's language"


@router.get("/profile", response_class=HTMLResponse)
def profile_page(request: Request) -> Response:
    """Show my name, role and team, and the language I read the pages in."""
    user = require(request)
    return page(
        request,
        "profile.html.j2",
        title=_("Profile"),
        names=NAMES,
        chosen=user.language or MUNICIPALITY_DEFAULT,
        saved=bool(request.query_params.get("saved")),
    )


@router.post("/profile", response_class=HTMLResponse)
def set_language(request: Request, language: str = Form(""), csrf: str = Form("")) -> Response:
    """Change the language I read the pages in; the change is written to the audit log."""
    user = require(request)
    check_csrf(request, csrf)
    if language != MUNICIPALITY_DEFAULT and language not in i18n.LANGUAGES:
        message = _("Choose one of the languages offered.")
        return page(request, "error.html.j2", 422, title=_(N_("Cannot do that")), message=message)
    chosen = language or None
    now = clock(request).now()
    accounts(request).set_language(user.username, chosen)
    accounts(request).audit(
        [AuditEntry(user.username, user.role, "set_language", None, user.municipality, "web", chosen or "default")],
        now,
    )
    return RedirectResponse("/profile?saved=1", 303)
