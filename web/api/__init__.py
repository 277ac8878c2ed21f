"""The REST API under /api/v1 for the municipality's own systems: record applications, work to-dos, read cases.

Authentication is `Authorization: Bearer <token>` only (`activation user token <username>` issues one);
cookies are ignored here, so there is no CSRF to guard against. Every POST takes an optional
`Idempotency-Key`: repeating a request with the same key and body replays the first answer.
Malformed input is answered with 422 and a `fields` map, never with a server error.
"""

from __future__ import annotations

from fastapi import APIRouter

from web.api import applications, availability, case_actions, cases, coverage, todos, work_duty
from web.api.common import API_ROLES, KEY_MAX, ApiRoute, ApiUser, IdempotencyKey, api_user, bearer, fingerprint

__all__ = [
    "API_ROLES",
    "KEY_MAX",
    "ApiRoute",
    "ApiUser",
    "IdempotencyKey",
    "api_user",
    "bearer",
    "fingerprint",
    "router",
]

# Every operation under /api/v1; included in this order so the OpenAPI spec lists the paths as it always has.
router = APIRouter()
router.include_router(applications.router)
router.include_router(todos.router)
router.include_router(cases.router)
router.include_router(case_actions.router)
router.include_router(coverage.router)
router.include_router(work_duty.router)
router.include_router(availability.router)
