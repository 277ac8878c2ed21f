"""The web application: caseworker inbox, manager console, operations view and the REST API."""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import escape
from sqlalchemy.exc import SQLAlchemyError
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from activation.access import User
from activation.adapters.accounts import Accounts, AuditEntry
from activation.config.rulebook import ConfigError
from activation.errors import HTTP_STATUS, AccessDenied, ForbiddenError, InputError
from activation.ports import Clock, SystemClock
from activation.runtime import Runtime, get_runtime
from web import i18n
from web.i18n import N_, _
from web.problems import problem_text
from web.throttle import AddressThrottle

HERE = Path(__file__).resolve().parent
log = logging.getLogger("activation.web")
ERROR_500 = "<!doctype html><html lang={lang}><meta charset=utf-8><title>{title}</title><h1>{title}</h1><p>{text}</p>"
SESSION_COOKIE = "activation_session"
STARLETTE_DETAILS = (N_("Not Found"), N_("Method Not Allowed"))

# Pages hold citizens' data: nothing runs but our own files, nothing frames us, nothing is cached.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # same-origin, not no-referrer: under no-referrer browsers send `Origin: null` with our own form
    # posts, and the sign-in's Origin check could not tell them from a forged one. Nothing leaves.
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


@dataclass
class WebSettings:
    """How the web application runs; every field has a default that suits the embedded pilot."""

    db_url: str | None = None
    config_dir: str | None = None
    clock: Clock = field(default_factory=SystemClock)
    prefect_ui: str = "http://127.0.0.1:4200"
    # Behind the municipality's single sign-on proxy: the proxy authenticates and passes the
    # username in this header; it is believed only from these addresses.
    trusted_user_header: str | None = None
    trusted_proxies: tuple[str, ...] = ("127.0.0.1/32", "::1/128")
    # "auto": Secure cookies unless the browser talks plain HTTP to a loopback address (the pilot).
    secure_cookies: str = "auto"
    sweep_interval_seconds: int = 300
    # Set by `activation serve` when it runs the flows beside the web app: {"flows": ..., "prefect": ...}
    # for /health (web/operations.py); None when the web app runs alone.
    serve_status: Callable[[], dict[str, str]] | None = None

    @classmethod
    def from_env(cls, **overrides: Any) -> WebSettings:
        """Read settings from ACTIVATION_* environment variables, then apply overrides."""
        env = os.environ
        values: dict[str, Any] = {}
        if env.get("ACTIVATION_TRUSTED_USER_HEADER"):
            values["trusted_user_header"] = env["ACTIVATION_TRUSTED_USER_HEADER"]
        if env.get("ACTIVATION_TRUSTED_PROXIES"):
            values["trusted_proxies"] = tuple(p.strip() for p in env["ACTIVATION_TRUSTED_PROXIES"].split(","))
        if env.get("ACTIVATION_SECURE_COOKIES"):
            values["secure_cookies"] = env["ACTIVATION_SECURE_COOKIES"]
        if env.get("PREFECT_UI_URL"):
            values["prefect_ui"] = env["PREFECT_UI_URL"]
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


class NotSignedIn(Exception):
    """The request needs a signed-in user."""


class Forbidden(Exception):
    """The signed-in user's role does not allow this."""


def runtime(request: Request) -> Runtime:
    """Return the store and rules for this request."""
    settings: WebSettings = request.app.state.settings
    return get_runtime(settings.db_url, settings.config_dir)


def accounts(request: Request) -> Accounts:
    """Return the accounts store."""
    return Accounts(runtime(request).engine)


def clock(request: Request) -> Clock:
    """Return the application's clock."""
    settings: WebSettings = request.app.state.settings
    return settings.clock


def signed_in(request: Request) -> User | None:
    """Return the signed-in user, if any."""
    return getattr(request.state, "user", None)


def require(request: Request, *roles: str) -> User:
    """Return the signed-in user if their role is one of roles; otherwise stop the request."""
    user = signed_in(request)
    if user is None:
        raise NotSignedIn()
    if roles and user.role not in roles:
        raise Forbidden()
    return user


def _is_trusted(request: Request, settings: WebSettings) -> bool:
    host = request.client.host if request.client else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(net, strict=False) for net in settings.trusted_proxies)


def secure_cookies(request: Request) -> bool:
    """Tell whether cookies get the Secure flag for this request."""
    settings: WebSettings = request.app.state.settings
    if settings.secure_cookies in ("1", "true", "yes"):
        return True
    if settings.secure_cookies in ("0", "false", "no"):
        return False
    host = request.url.hostname or ""
    return not (request.url.scheme == "http" and host in ("127.0.0.1", "localhost", "::1"))


class SignInMiddleware:
    """Find who is asking (session cookie, or the SSO proxy's header) and add the security headers.

    Plain ASGI, not Starlette's BaseHTTPMiddleware: that one runs every request through an extra
    task and memory stream, a third of the web process's time per API call under load (issue 10).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)  # its state is the scope's: the endpoint's Request sees the same
        settings: WebSettings = scope["app"].state.settings
        request.state.user = None
        request.state.csrf = None
        request.state.via_sso = False
        request.state.language = i18n.negotiate(request.headers.get("accept-language"))
        i18n.use(request.state.language)
        try:
            self._identify(request, settings)
            request.state.language = self._language(request, settings)
        except SQLAlchemyError:
            # The database is down: /health says so itself; every other page would fail anyway.
            if request.url.path != "/health":
                answer = JSONResponse({"detail": "the database is not reachable; try again shortly"}, 503)
                await _with_headers(answer, request)(scope, receive, send)
                return
        i18n.use(request.state.language)  # pages, filters and messages follow it from here on

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                _add_headers(MutableHeaders(scope=message), request)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    @staticmethod
    def _language(request: Request, settings: WebSettings) -> str:
        """Return the signed-in user's language, else their municipality's; else the browser's."""
        user: User | None = request.state.user
        if user is None:
            return str(request.state.language)
        home = None
        if user.municipality:
            with contextlib.suppress(ConfigError):
                home = get_runtime(settings.db_url, settings.config_dir).rules.municipality(user.municipality).language
        return i18n.language_of(user.language, home)

    @staticmethod
    def _identify(request: Request, settings: WebSettings) -> None:
        store = Accounts(get_runtime(settings.db_url, settings.config_dir).engine)
        now = settings.clock.now()
        header = settings.trusted_user_header
        if header and request.headers.get(header) and _is_trusted(request, settings):
            user = store.user(request.headers[header].strip().lower())
            if user is not None:
                request.state.user, request.state.via_sso = user, True
                request.state.csrf = request.cookies.get("activation_csrf") or os.urandom(24).hex()
        elif token := request.cookies.get(SESSION_COOKIE):
            found = store.session(token, now)
            if found is not None:
                request.state.user, request.state.csrf = found


def _with_headers(response: Response, request: Request) -> Response:
    """Add the security headers (and the SSO CSRF cookie) to a response."""
    _add_headers(response.headers, request)
    return response


def _add_headers(headers: MutableHeaders, request: Request) -> None:
    """Add the security headers (and the SSO CSRF cookie) to an answer's headers."""
    for name, value in SECURITY_HEADERS.items():
        headers.setdefault(name, value)
    if request.state.user is not None or request.url.path.startswith("/api/"):
        headers["Cache-Control"] = "no-store"
    if secure_cookies(request):
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if request.state.via_sso and request.cookies.get("activation_csrf") != request.state.csrf:
        cookie = Response()
        cookie.set_cookie(
            "activation_csrf",
            request.state.csrf,
            httponly=True,
            samesite="strict",
            secure=secure_cookies(request),
        )
        headers.append("set-cookie", cookie.headers["set-cookie"])


def templates_env() -> Environment:
    """Return the Jinja2 environment for pages; everything is escaped unless marked safe."""
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    from web import format as fmt

    env.filters.update(fmt.FILTERS)
    # Every string in a template goes through the catalogs in the request's language (web/i18n.py).
    env.install_gettext_callables(**i18n.jinja_callables(), newstyle=True)  # type: ignore[attr-defined]
    return env


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render a page with the signed-in user, CSRF token and navigation."""
    from web.glossary import Terms

    env: Environment = request.app.state.templates
    user = signed_in(request)
    language = getattr(request.state, "language", i18n.DEFAULT)
    i18n.use(language)
    html = env.get_template(template).render(
        request=request,
        user=user,
        language=language,
        terms=Terms(
            runtime(request).rules, lambda: accounts(request).display_names(user.municipality if user else None)
        ),
        csrf=request.state.csrf or "",
        now=clock(request).now(),
        settings=request.app.state.settings,
        **context,
    )
    return HTMLResponse(html, status_code=status_code)


def check_csrf(request: Request, token: str | None) -> None:
    """Refuse a form post that does not carry the session's CSRF token."""
    expected = getattr(request.state, "csrf", None)
    if not expected or not token or token != expected:
        record_denied(request, "the form's CSRF token is missing or wrong")
        message = _("The form has expired or did not come from this site; reload and try again.")
        raise StarletteHTTPException(403, message)


def record_denied(
    request: Request, reason: str, case_id: str | None = None, municipality: str | None = None, who: str | None = None
) -> None:
    """Write a refused attempt to the audit log: who, what (method and path), when, through what, why.

    The line goes to the municipality of the case that was asked for (its managers read it on the
    console's audit page), else to the user's own. Never fails the request it reports on.
    """
    user = signed_in(request)
    username = user.username if user else (who or "-")
    role = user.role if user else "anonymous"
    where = municipality or (user.municipality if user else None)
    via = "api" if request.url.path.startswith("/api/") else "web"
    detail = f"{request.method} {request.url.path}: {reason}"
    # The refusal stands even if the line cannot be written; /health reports a database that ill.
    with contextlib.suppress(SQLAlchemyError):
        accounts(request).audit(
            [AuditEntry(username[:64], role, "denied", case_id, where, via, detail[:500])], clock(request).now()
        )


def denied(request: Request, exc: Exception) -> None:
    """Audit a use case's refusal when it was about access (not yours to see, not yours to do)."""
    if isinstance(exc, AccessDenied):
        record_denied(request, "not the user's to see", exc.case_id, exc.municipality)
    elif isinstance(exc, ForbiddenError):
        record_denied(request, str(exc))


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Requests beyond this many wait their turn in the event loop, first come first served, instead
    # of 40 threads fighting over the GIL and the database's connection pool: under a burst the
    # slowest answer is then a queue's wait, not a convoy's (issue 10).
    limit = int(os.environ.get("ACTIVATION_WEB_THREADS", "0") or 0)
    if limit > 0:
        anyio.to_thread.current_default_thread_limiter().total_tokens = limit
    yield


def create_app(settings: WebSettings | None = None) -> FastAPI:
    """Build the web application."""
    settings = settings or WebSettings.from_env()
    app = FastAPI(
        lifespan=_lifespan,
        title="Activation",
        version="1",
        summary="Caseworker inbox, manager console and integration API for the activation journey.",
        docs_url=None,  # the Swagger page loads scripts from a CDN; the spec itself is at /openapi.json
        redoc_url=None,
        openapi_tags=[
            {"name": "applications", "description": "Record a citizen's application; opens one case per citizen."},
            {"name": "to-dos", "description": "List the caseworker to-dos you may see and complete them."},
            {"name": "cases", "description": "Read one case; every read is written to the audit log."},
        ],
    )
    app.state.settings = settings
    app.state.templates = templates_env()
    app.state.throttle = AddressThrottle()
    app.add_middleware(SignInMiddleware)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    from web import (
        api,
        case_actions,
        console,
        coverage,
        inbox,
        operations,
        pages,
        profile,
        search,
        team,
        todo_page,
        versions,
        work_duty,
    )

    app.include_router(pages.router)
    app.include_router(inbox.router)
    app.include_router(search.router)
    app.include_router(team.router)
    app.include_router(todo_page.router)
    app.include_router(case_actions.router)
    app.include_router(profile.router)
    app.include_router(console.router)
    app.include_router(versions.router)
    app.include_router(coverage.router)
    app.include_router(work_duty.router)
    app.include_router(operations.router)
    app.include_router(api.router)

    @app.exception_handler(NotSignedIn)
    async def _not_signed_in(request: Request, exc: NotSignedIn) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse(
                {"detail": "sign in: send 'Authorization: Bearer <token>'"}, 401, headers={"WWW-Authenticate": "Bearer"}
            )
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/sign-in?next={target}", 303)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        user = signed_in(request)
        record_denied(request, f"the role {user.role if user else '-'} may not use this")
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": "your role does not allow this"}, 403)
        return page(
            request, "error.html.j2", 403, title=_("Not allowed"), message=_("Your role does not allow this page.")
        )

    @app.exception_handler(InputError)
    async def _input_error(request: Request, exc: InputError) -> Response:
        # The use case said what kind of problem it is; the answer follows from that alone.
        status = HTTP_STATUS[exc.kind]
        denied(request, exc)
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": str(exc), "fields": exc.fields}, status)
        titles = {404: N_("Not found"), 403: N_("Not allowed"), 409: N_("Already done")}
        title = _(titles.get(status, N_("Cannot do that")))
        return page(request, "error.html.j2", status, title=title, message=problem_text(str(exc)))

    @app.exception_handler(Exception)
    async def _server_error(request: Request, exc: Exception) -> Response:
        # Outside every middleware (Starlette answers 500s last): the headers are added here, the
        # details go to the log by path and error class only, never to the browser.
        log.error("%s %s failed: %s", request.method, request.url.path, type(exc).__name__)
        if request.url.path.startswith("/api/"):
            response: Response = JSONResponse({"detail": "something went wrong on our side; it has been logged"}, 500)
        else:
            i18n.use(i18n.negotiate(request.headers.get("accept-language")))
            text = _("It has been logged. Go back and try again; nothing you typed was saved.")
            title = escape(_("Something went wrong"))
            response = HTMLResponse(ERROR_500.format(lang=i18n.current(), title=title, text=escape(text)), 500)
        for name, value in SECURITY_HEADERS.items():
            response.headers[name] = value
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith("/api/") or request.url.path in ("/health", "/openapi.json"):
            return JSONResponse({"detail": exc.detail}, exc.status_code, headers=exc.headers)
        titles = {404: N_("Not found"), 403: N_("Not allowed"), 405: N_("Not allowed")}
        title = _(titles.get(exc.status_code, N_("Error")))
        # Starlette's own details ("Not Found") are English words of the catalog too.
        message = _(exc.detail) if exc.detail in STARLETTE_DETAILS else exc.detail
        return page(request, "error.html.j2", exc.status_code, title=title, message=message)

    return app
