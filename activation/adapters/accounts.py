"""Staff accounts, sign-in sessions, the audit log and API idempotency keys, in the project's database."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from activation.access import User
from activation.adapters import tables as t
from activation.adapters.db import reading
from activation.errors import InputError, NotFoundError
from activation.model import AuditEntry

__all__ = ["Accounts", "AuditEntry", "StoredResponse"]

SESSION_HOURS = 10  # a working day and some; after that, sign in again
KEEP_EXPIRED_SESSIONS = timedelta(days=7)  # as long as a draft is kept (adapters/drafts.py)
LOCK_AFTER_FAILURES = 5  # wrong passwords in a row before the account waits
LOCK_MINUTES = 15

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified against when the username is unknown, so a wrong name takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _user(row: Any) -> User:
    return User(row.username, row.display_name, row.role, row.municipality, row.team, row.language)


@dataclass(frozen=True)
class StoredResponse:
    """The first answer to an idempotent API request, replayed when the same key comes again."""

    fingerprint: str
    status_code: int
    body: Any


class Accounts:
    """Users, sessions, audit log and idempotency keys over one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- users ----------------------------------------------------------------------------------
    def add_user(self, user: User, password: str | None, now: datetime) -> None:
        """Create a user; the password is stored only as an argon2 hash."""
        if password is not None and len(password) < 10:
            raise InputError("the password needs at least 10 characters")
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(t.users).values(
                        username=user.username,
                        display_name=user.display_name,
                        role=user.role,
                        municipality=user.municipality,
                        team=user.team,
                        language=user.language,
                        password_hash=_hasher.hash(password) if password else None,
                        created_at=now,
                    )
                )
        except IntegrityError:
            raise InputError(f"user {user.username!r} already exists") from None

    def set_password(self, username: str, password: str) -> None:
        """Give a user a new password, unlock the account and end their sessions."""
        if len(password) < 10:
            raise InputError("the password needs at least 10 characters")
        with self.engine.begin() as conn:
            done = conn.execute(
                update(t.users)
                .where(t.users.c.username == username)
                .values(password_hash=_hasher.hash(password), failed_sign_ins=0, locked_until=None)
                .returning(t.users.c.username)
            ).first()
            # A new password ends every session: whoever knew the old one is signed out everywhere.
            conn.execute(delete(t.web_sessions).where(t.web_sessions.c.username == username))
        if done is None:
            raise NotFoundError(f"unknown user {username!r}")

    def set_language(self, username: str, language: str | None) -> None:
        """Set the language a user reads the pages in (None: their municipality's)."""
        with self.engine.begin() as conn:
            done = conn.execute(
                update(t.users)
                .where(t.users.c.username == username)
                .values(language=language)
                .returning(t.users.c.username)
            ).first()
        if done is None:
            raise InputError(f"unknown user {username!r}")

    def issue_api_token(self, username: str) -> str:
        """Give a user a new API bearer token (the old one stops working); return it once."""
        token = "act_" + secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            done = conn.execute(
                update(t.users)
                .where(t.users.c.username == username)
                .values(api_token_hash=_sha256(token))
                .returning(t.users.c.username)
            ).first()
        if done is None:
            raise NotFoundError(f"unknown user {username!r}")
        return token

    def user(self, username: str) -> User | None:
        """Return an active user."""
        with reading(self.engine) as conn:
            row = conn.execute(
                select(t.users).where(t.users.c.username == username, t.users.c.active.is_(True))
            ).first()
        return _user(row) if row else None

    def users(self, municipality: str | None = None, role: str | None = None) -> list[User]:
        """Return active users, by username."""
        query = select(t.users).where(t.users.c.active.is_(True)).order_by(t.users.c.username)
        if municipality:
            query = query.where(t.users.c.municipality == municipality)
        if role:
            query = query.where(t.users.c.role == role)
        with reading(self.engine) as conn:
            return [_user(r) for r in conn.execute(query)]

    def display_names(self, municipality: str | None) -> dict[str, str]:
        """Return every member of staff's display name by username (the inactive too: history keeps names)."""
        query = select(t.users.c.username, t.users.c.display_name).where(t.users.c.display_name != "")
        if municipality:
            query = query.where(t.users.c.municipality == municipality)
        with reading(self.engine) as conn:
            return {username: name for username, name in conn.execute(query)}

    def deactivate(self, username: str) -> None:
        """Stop a user signing in; their sessions end at once. History keeps their name."""
        with self.engine.begin() as conn:
            done = conn.execute(
                update(t.users).where(t.users.c.username == username).values(active=False).returning(t.users.c.username)
            ).first()
            if done is None:
                raise NotFoundError(f"unknown user {username!r}")
            conn.execute(delete(t.web_sessions).where(t.web_sessions.c.username == username))

    def check_password(self, username: str, password: str, now: datetime) -> User | None:
        """Return the user if the password is right and the account not locked; count failures."""
        with self.engine.begin() as conn:
            row = conn.execute(
                select(t.users).where(t.users.c.username == username, t.users.c.active.is_(True))
            ).first()
            stored = row.password_hash if row is not None and row.password_hash else _DUMMY_HASH
            try:
                ok = _hasher.verify(stored, password) and row is not None and bool(row.password_hash)
            except (VerificationError, InvalidHashError):
                ok = False
            if row is None:
                return None
            if row.locked_until is not None and row.locked_until > now:
                return None  # locked: even the right password waits, so guessing gains nothing
            if not ok:
                failures = row.failed_sign_ins + 1
                locked = now + timedelta(minutes=LOCK_MINUTES) if failures >= LOCK_AFTER_FAILURES else None
                conn.execute(
                    update(t.users)
                    .where(t.users.c.username == username)
                    .values(failed_sign_ins=0 if locked else failures, locked_until=locked)
                )
                return None
            conn.execute(
                update(t.users).where(t.users.c.username == username).values(failed_sign_ins=0, locked_until=None)
            )
            return _user(row)

    def user_by_token(self, token: str) -> User | None:
        """Return the active user holding this API token."""
        with reading(self.engine) as conn:
            row = conn.execute(
                select(t.users).where(t.users.c.api_token_hash == _sha256(token), t.users.c.active.is_(True))
            ).first()
        return _user(row) if row else None

    # -- sessions -------------------------------------------------------------------------------
    def start_session(self, username: str, now: datetime) -> tuple[str, str]:
        """Open a session; return (cookie value, CSRF token). Only a hash of the cookie is stored."""
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            # Expired sessions stay a while: a form saved after its session ran out is still known as
            # its user's, so what they typed is kept for them (adapters/drafts.py). None signs anyone in.
            conn.execute(delete(t.web_sessions).where(t.web_sessions.c.expires_at < now - KEEP_EXPIRED_SESSIONS))
            conn.execute(
                insert(t.web_sessions).values(
                    id=_sha256(token),
                    username=username,
                    csrf=csrf,
                    created_at=now,
                    expires_at=now + timedelta(hours=SESSION_HOURS),
                )
            )
        return token, csrf

    def session(self, token: str, now: datetime) -> tuple[User, str] | None:
        """Return the signed-in user and the session's CSRF token, if the session is live."""
        with reading(self.engine) as conn:
            row = conn.execute(
                select(t.users, t.web_sessions.c.csrf)
                .join(t.web_sessions, t.web_sessions.c.username == t.users.c.username)
                .where(
                    t.web_sessions.c.id == _sha256(token),
                    t.web_sessions.c.expires_at > now,
                    t.users.c.active.is_(True),
                )
            ).first()
        return (_user(row), row.csrf) if row else None

    def session_owner(self, token: str) -> User | None:
        """Return whose session a cookie is, live or expired: a form they saved too late is kept for them."""
        with reading(self.engine) as conn:
            row = conn.execute(
                select(t.users)
                .join(t.web_sessions, t.web_sessions.c.username == t.users.c.username)
                .where(t.web_sessions.c.id == _sha256(token), t.users.c.active.is_(True))
            ).first()
        return _user(row) if row else None

    def end_session(self, token: str) -> None:
        """Sign out: the session cannot be used again."""
        with self.engine.begin() as conn:
            conn.execute(delete(t.web_sessions).where(t.web_sessions.c.id == _sha256(token)))

    # -- audit log ------------------------------------------------------------------------------
    def audit(self, entries: Sequence[AuditEntry], now: datetime) -> None:
        """Write audit lines; they are never updated or deleted by the application."""
        if not entries:
            return
        with self.engine.begin() as conn:
            conn.execute(insert(t.audit_log), [{**e.__dict__, "at": now} for e in entries])

    def audit_entries(
        self,
        municipality: str | None,
        case_id: str | None = None,
        username: str | None = None,
        limit: int = 200,
    ) -> list[dict[str, Any]]:
        """Return the newest audit lines of a municipality, optionally for one case or one user."""
        query = select(t.audit_log).order_by(t.audit_log.c.at.desc(), t.audit_log.c.id.desc()).limit(limit)
        if municipality:
            query = query.where(t.audit_log.c.municipality == municipality)
        if case_id:
            query = query.where(t.audit_log.c.case_id == case_id)
        if username:
            query = query.where(t.audit_log.c.username == username)
        with reading(self.engine) as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def audit_count(self, action: str, case_id: str | None = None) -> int:
        """Count audit lines of one action (optionally for one case)."""
        query = select(func.count()).select_from(t.audit_log).where(t.audit_log.c.action == action)
        if case_id:
            query = query.where(t.audit_log.c.case_id == case_id)
        with reading(self.engine) as conn:
            return int(conn.execute(query).scalar_one())

    # -- idempotency keys -----------------------------------------------------------------------
    def stored_response(self, username: str, key: str) -> StoredResponse | None:
        """Return the first answer given to this client key, if any."""
        with reading(self.engine) as conn:
            row = conn.execute(
                select(t.api_requests).where(t.api_requests.c.username == username, t.api_requests.c.key == key)
            ).first()
        return StoredResponse(row.fingerprint, row.status_code, row.response) if row else None

    def store_response(
        self, username: str, key: str, fingerprint: str, status_code: int, body: Any, now: datetime
    ) -> StoredResponse:
        """Keep an answer for its key; if a concurrent request stored one first, return that one."""
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(t.api_requests).values(
                        username=username,
                        key=key,
                        fingerprint=fingerprint,
                        status_code=status_code,
                        response=body,
                        created_at=now,
                    )
                )
        except IntegrityError:
            first = self.stored_response(username, key)
            assert first is not None
            return first
        return StoredResponse(fingerprint, status_code, body)
