"""Operations: how the flows are keeping up (sweep, backlog, parked steps, failed Prefect runs) and /health.

Operations staff see runs and counts, never a citizen: nothing here shows a citizen reference, a
caseworker or a case id, and a failed run shows its name and state, not its message.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.exc import SQLAlchemyError

from activation.adapters.db import reading
from activation.adapters.operations import FlowHealth, flow_health
from activation.lifecycle import MAX_STEP_FAILURES
from web.app import WebSettings, clock, page, require, runtime
from web.i18n import _

router = APIRouter()

PREFECT_TIMEOUT_SECONDS = 2.0
FAILED_RUNS_LIMIT = 20


def _behind_after(settings: WebSettings) -> timedelta:
    # Something due for longer than two sweep intervals means the flows are not keeping up.
    return timedelta(seconds=2 * settings.sweep_interval_seconds)


def _health(request: Request) -> FlowHealth:
    with reading(runtime(request).engine) as conn:
        return flow_health(conn, clock(request).now())


# -- Prefect ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FailedRun:
    """A failed or crashed flow run, as much of it as operations need: no parameters, no message."""

    id: str
    name: str
    flow: str
    state_type: str
    state_name: str
    at: datetime | None
    url: str


@dataclass(frozen=True)
class PrefectRuns:
    """Failed flow runs read from the Prefect API, or why they could not be read."""

    api_url: str
    ui_url: str
    runs: list[FailedRun]
    problem: str | None = None


def prefect_api_url(settings: WebSettings) -> str:
    """Return the Prefect API: PREFECT_API_URL if set, else the UI's address + /api."""
    return (os.environ.get("PREFECT_API_URL") or settings.prefect_ui.rstrip("/") + "/api").rstrip("/")


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def failed_runs(settings: WebSettings, transport: httpx.BaseTransport | None = None) -> PrefectRuns:
    """Read the newest failed and crashed flow runs from Prefect (2 s timeout); never raise."""
    api = prefect_api_url(settings)
    ui = settings.prefect_ui.rstrip("/")
    query = {
        "flow_runs": {"state": {"type": {"any_": ["FAILED", "CRASHED"]}}},
        "sort": "EXPECTED_START_TIME_DESC",
        "limit": FAILED_RUNS_LIMIT,
    }
    try:
        with httpx.Client(timeout=PREFECT_TIMEOUT_SECONDS, transport=transport) as client:
            response = client.post(f"{api}/flow_runs/filter", json=query)
            response.raise_for_status()
            rows = response.json()
            if not isinstance(rows, list):
                raise ValueError("unexpected answer")
            flow_ids = sorted({str(r.get("flow_id")) for r in rows if isinstance(r, dict) and r.get("flow_id")})
            names: dict[str, str] = {}
            if flow_ids:
                # The flow's name is a nicety: without it the run still shows.
                try:
                    found = client.post(f"{api}/flows/filter", json={"flows": {"id": {"any_": flow_ids}}})
                    found.raise_for_status()
                    names = {str(f["id"]): str(f["name"]) for f in found.json() if isinstance(f, dict)}
                except (httpx.HTTPError, ValueError, KeyError, TypeError):
                    names = {}
    except (httpx.HTTPError, ValueError) as exc:
        problem = _("Prefect API not reachable at %(api)s (%(error)s).", api=api, error=type(exc).__name__)
        return PrefectRuns(api, ui, [], problem)
    runs: list[FailedRun] = []
    for row in rows:
        if not isinstance(row, dict):
            continue
        try:
            run_id = str(uuid.UUID(str(row.get("id"))))  # only a real run id goes into a link
        except ValueError:
            continue
        state: dict[str, Any] = row["state"] if isinstance(row.get("state"), dict) else {}
        runs.append(
            FailedRun(
                id=run_id,
                name=str(row.get("name") or run_id),
                flow=names.get(str(row.get("flow_id")), ""),
                state_type=str(row.get("state_type") or state.get("type") or ""),
                state_name=str(row.get("state_name") or state.get("name") or ""),
                at=_moment(row.get("start_time")) or _moment(row.get("expected_start_time")),
                url=f"{ui}/runs/flow-run/{run_id}",
            )
        )
    return PrefectRuns(api, ui, runs)


# -- pages --------------------------------------------------------------------------------------


@router.get("/operations", response_class=HTMLResponse, include_in_schema=False)
def operations_page(request: Request) -> Response:
    """Show flow health: the last sweep, the due backlog per municipality, parked steps, failed runs."""
    require(request, "operations")
    settings: WebSettings = request.app.state.settings
    try:
        health = _health(request)
    except SQLAlchemyError:
        message = _("The database does not answer; /health says the same to monitoring.")
        return page(request, "error.html.j2", 503, title=_("Database not reachable"), message=message)
    prefect = failed_runs(settings, getattr(request.app.state, "prefect_transport", None))
    return page(
        request,
        "operations.html.j2",
        title=_("Operations"),
        health=health,
        behind=health.behind(_behind_after(settings)),
        behind_after=_behind_after(settings),
        prefect=prefect,
        max_failures=MAX_STEP_FAILURES,
    )


class Health(BaseModel):
    """How the service is doing, in counts only (no personal data); for load balancers and monitoring."""

    status: Literal["ok", "degraded", "down"] = Field(
        description="'ok'; 'degraded' when steps are parked, due work waits longer than two sweep intervals, the"
        " flows are starting or a flow's last run failed; 'down' when the database does not answer or, in"
        " `activation serve`, the flow loop has stopped or stalled or its Prefect server does not answer",
        examples=["ok"],
    )
    database: Literal["ok", "unreachable"] = Field(description="whether the database answered", examples=["ok"])
    flows: Literal["ok", "starting", "failing", "stalled", "stopped"] | None = Field(
        default=None,
        description="the flow loop of `activation serve` beside this web app (absent when the web app runs alone):"
        " 'failing' when a flow's last run failed, 'stalled' when no flow started for three intervals",
        examples=["ok"],
    )
    prefect: Literal["ok", "unreachable"] | None = Field(
        default=None,
        description="whether the flows' Prefect server answers (absent when the web app runs alone)",
        examples=["ok"],
    )
    last_sweep_at: datetime | None = Field(
        default=None, description="when the deadline sweep last fired an alarm (UTC)", examples=["2026-11-23T08:55:00Z"]
    )
    due_backlog: int | None = Field(
        default=None, description="due alarms, unapplied steps and unrendered letters waiting now", examples=[0]
    )
    parked_steps: int | None = Field(
        default=None, description="steps parked after repeated failures, waiting for operations", examples=[0]
    )


@router.get(
    "/health",
    response_model=Health,
    tags=["health"],
    summary="Service health",
    responses={503: {"model": Health, "description": "The database, the flows or their Prefect server are down."}},
)
def health(request: Request) -> Response:
    """Tell whether the database answers and whether the flows run and keep up. No sign-in; no personal data."""
    settings: WebSettings = request.app.state.settings
    served: dict[str, Any] = settings.serve_status() if settings.serve_status else {}
    alone = None if served else {"flows", "prefect"}  # the web app alone does not report on flows
    engine_down = served.get("flows") in ("stalled", "stopped") or served.get("prefect") == "unreachable"
    try:
        measured = _health(request)
    except SQLAlchemyError:
        down = Health(status="down", database="unreachable", **served)
        return JSONResponse(down.model_dump(mode="json", exclude=alone), 503, headers={"Cache-Control": "no-store"})
    degraded = (
        measured.parked_steps > 0
        or measured.behind(_behind_after(settings))
        or served.get("flows") in ("starting", "failing")
    )
    body = Health(
        status="down" if engine_down else "degraded" if degraded else "ok",
        database="ok",
        last_sweep_at=measured.last_sweep_at,
        due_backlog=measured.due_backlog,
        parked_steps=measured.parked_steps,
        **served,
    )
    code = 503 if engine_down else 200
    return JSONResponse(body.model_dump(mode="json", exclude=alone), code, headers={"Cache-Control": "no-store"})
