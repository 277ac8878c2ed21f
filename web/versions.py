"""The manager console's rule versions: the law's versions and the municipality's own, previewed and applied."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from activation.config import Municipality, RuleVersion
from activation.errors import ConflictError
from web.app import check_csrf, clock, page, runtime
from web.console import _ladder, _manager
from web.i18n import _

router = APIRouter(include_in_schema=False)  # pages, not the API


def _changes(before: Municipality, version: RuleVersion) -> list[tuple[str, str, dict[str, Any] | None]]:
    """Return each changed rule with its policy and its new rule (None: the version removes it)."""
    from activation.rule_change import changed_rules

    rows = []
    for key in changed_rules(before, version.municipality):
        try:
            rule: dict[str, Any] | None = _ladder(version.municipality.rule(key))
        except KeyError:
            rule = None
        rows.append((key, version.policy(key), rule))
    return rows


@router.get("/console/versions", response_class=HTMLResponse)
def versions_page(request: Request) -> Response:
    """Show every version of the rules (the law's and our own), and what applying a later one would move now."""
    from activation.rule_change import preview_version

    _user, municipality = _manager(request)
    rt = runtime(request)
    now = clock(request).now()
    rules = rt.rules
    history = rules.history.get(municipality.code, ())
    with rt.store.reads() as reads:
        applied = {c.version: c for c in reads.rule_changes(municipality.code)}
    rows = []
    for n, v in enumerate((*history, *rules.proposed.get(municipality.code, ()))):
        first = n == 0
        preview = (
            preview_version(rt.store, rules, municipality.code, v.version, now).summary()
            if not first and v.version not in applied
            else None
        )
        rows.append(
            {
                "version": v,
                "changed": [] if first else _changes(rules.before(v).municipality, v),
                "applied": applied.get(v.version),
                "preview": preview,
                "can_apply": not first
                and v.appliable
                and v.effective_from is not None
                and v.effective_from <= now.date(),
            }
        )
    national = rules.national.get(municipality.extends.lower(), ())
    return page(
        request,
        "console_versions.html.j2",
        municipality=municipality,
        rows=rows,
        national=national,
        in_force=rules.in_force(municipality.code, now),
    )


@router.post("/console/versions/{version}/apply")
def apply_version_now(request: Request, version: str, csrf: str = Form("")) -> Response:
    """Apply a rule version to running cases, exactly as its preview showed; a bill is refused (409)."""
    from activation.rule_change import apply_version

    user, municipality = _manager(request)
    check_csrf(request, csrf)
    rt = runtime(request)
    now = clock(request).now()
    try:
        apply_version(rt.store, rt.rules, municipality.code, version, now, user.username, via="web", role=user.role)
    except ConflictError as exc:
        # Audited by the use case; the manager reads why in their language.
        status = exc.fields.get("version", "")
        message = {
            "proposed": _("%(version)s is a proposed version (a bill): it can be previewed and simulated, not applied.",
                          version=version),
            "repealed": _("%(version)s is repealed: it is no longer applied to running cases.", version=version),
        }.get(status, str(exc))  # fmt: skip
        return page(request, "error.html.j2", 409, title=_("Cannot be applied"), message=message)
    return RedirectResponse("/console/versions", 303)
