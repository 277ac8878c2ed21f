"""The web application: caseworker inbox, manager console, operations view and the REST API."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

from activation.access import User
from activation.adapters.accounts import Accounts
from activation.errors import HTTP_STATUS, InputError
from activation.ports import Clock, SystemClock
from activation.runtime import Runtime, get_runtime

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "activation_session"

# Pages hold citizens' data: nothing runs but our own files, nothing frames us, nothing is cached.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
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


class SignInMiddleware(BaseHTTPMiddleware):
    """Find who is asking (session cookie, or the SSO proxy's header) and add the security headers."""

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        settings: WebSettings = request.app.state.settings
        request.state.user = None
        request.state.csrf = None
        request.state.via_sso = False
        try:
            self._identify(request, settings)
        except SQLAlchemyError:
            # The database is down: /health says so itself; every other page would fail anyway.
            if request.url.path != "/health":
                return _with_headers(
                    JSONResponse({"detail": "the database is not reachable; try again shortly"}, 503), request
                )
        response = await call_next(request)
        return _with_headers(response, request)

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
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.state.user is not None or request.url.path.startswith("/api/"):
        response.headers["Cache-Control"] = "no-store"
    if secure_cookies(request):
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if request.state.via_sso and request.cookies.get("activation_csrf") != request.state.csrf:
        response.set_cookie(
            "activation_csrf",
            request.state.csrf,
            httponly=True,
            samesite="strict",
            secure=secure_cookies(request),
        )
    return response


def templates_env() -> Environment:
    """Return the Jinja2 environment for pages; everything is escaped unless marked safe."""
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    from web import format as fmt

    env.filters.update(fmt.FILTERS)
    return env


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render a page with the signed-in user, CSRF token and navigation."""
    env: Environment = request.app.state.templates
    user = signed_in(request)
    html = env.get_template(template).render(
        request=request,
        user=user,
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
        raise StarletteHTTPException(403, "The form has expired or did not come from this site; reload and try again.")


def create_app(settings: WebSettings | None = None) -> FastAPI:
    """Build the web application."""
    settings = settings or WebSettings.from_env()
    app = FastAPI(
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
    app.add_middleware(SignInMiddleware)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    from web import api, console, operations, pages

    app.include_router(pages.router)
    app.include_router(console.router)
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
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": "your role does not allow this"}, 403)
        return page(request, "error.html.j2", 403, title="Not allowed", message="Your role does not allow this page.")

    @app.exception_handler(InputError)
    async def _input_error(request: Request, exc: InputError) -> Response:
        # The use case said what kind of problem it is; the answer follows from that alone.
        status = HTTP_STATUS[exc.kind]
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": str(exc), "fields": exc.fields}, status)
        titles = {404: "Not found", 403: "Not allowed", 409: "Already done"}
        return page(request, "error.html.j2", status, title=titles.get(status, "Cannot do that"), message=str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith("/api/") or request.url.path in ("/health", "/openapi.json"):
            return JSONResponse({"detail": exc.detail}, exc.status_code, headers=exc.headers)
        titles = {404: "Not found", 403: "Not allowed", 405: "Not allowed"}
        return page(
            request, "error.html.j2", exc.status_code, title=titles.get(exc.status_code, "Error"), message=exc.detail
        )

    return app
