"""Staff accounts: `user add/password/token/list/deactivate`."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from cli.common import JsonOpt, console, emit_json, plain, runtime, user_app


@user_app.command("add")
def user_add(
    username: Annotated[str, typer.Argument(help="Sign-in name; for caseworkers also the id on cases, e.g. cw-01.")],
    role: Annotated[str, typer.Option(help="caseworker, team_lead, manager or operations.")],
    municipality: Annotated[str | None, typer.Option(help="Municipality code (not for operations).")] = None,
    team: Annotated[str | None, typer.Option(help="Team code (caseworkers and team leads).")] = None,
    name: Annotated[str | None, typer.Option(help="Name shown on the pages.")] = None,
    language: Annotated[
        str | None, typer.Option(help="da, sv or en: the pages' language; default: the municipality's (operations en).")
    ] = None,
    password: Annotated[
        str | None,
        typer.Option(help="Password (10+ characters); default: read from ACTIVATION_NEW_PASSWORD, else generated."),
    ] = None,
    sso_only: Annotated[bool, typer.Option(help="No password: the user signs in only through the SSO proxy.")] = False,
    token: Annotated[bool, typer.Option(help="Also issue an API bearer token and print it once.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Create a user who signs in to the web application (and, with --token, the API)."""
    import secrets

    from activation.access import User, check_new_user
    from activation.adapters.accounts import Accounts

    rt = runtime()
    user = User(username.strip().lower(), name or username, role, municipality, team, language)
    known = {code: tuple(rt.rules.municipality(code).teams) for code in rt.rules.municipalities}
    check_new_user(user, known)
    generated = False
    if not sso_only and password is None:
        password = os.environ.get("ACTIVATION_NEW_PASSWORD")
        if not password:
            password, generated = secrets.token_urlsafe(12), True
    accounts = Accounts(rt.engine)
    accounts.add_user(user, None if sso_only else password, datetime.now(UTC))
    api_token = accounts.issue_api_token(user.username) if token else None
    result = {
        "username": user.username,
        "role": user.role,
        "municipality": user.municipality,
        "team": user.team,
        "language": user.language,
        "password": password if generated else None,
        "api_token": api_token,
    }
    if as_json:
        emit_json(result)
        return
    console.print(f"Created {user.role} [bold]{user.username}[/]" + (f" in {municipality}" if municipality else ""))
    if generated:
        console.print(f"Password (shown once): {password}")
    if api_token:
        console.print(f"API token (shown once): {api_token}")


@user_app.command("password")
def user_password(
    username: Annotated[str, typer.Argument(help="The user.")],
    password: Annotated[str | None, typer.Option(help="New password; default: generated and printed once.")] = None,
) -> None:
    """Set a new password (and unlock the account)."""
    import secrets

    from activation.adapters.accounts import Accounts

    new = password or secrets.token_urlsafe(12)
    Accounts(runtime().engine).set_password(username, new)
    console.print(f"Password of {username} changed." + ("" if password else f" New password (shown once): {new}"))


@user_app.command("token")
def user_token(username: Annotated[str, typer.Argument(help="The user an integration acts as.")]) -> None:
    """Issue a new API bearer token for a user (the previous one stops working)."""
    from activation.adapters.accounts import Accounts

    console.print(Accounts(runtime().engine).issue_api_token(username), highlight=False)


@user_app.command("list")
def user_list(as_json: JsonOpt = False) -> None:
    """List active users and their roles."""
    from activation.adapters.accounts import Accounts

    users = Accounts(runtime().engine).users()
    if as_json:
        emit_json([plain(u) for u in users])
        return
    table = Table("username", "name", "role", "municipality", "team")
    for u in users:
        table.add_row(u.username, u.display_name, u.role, u.municipality or "", u.team or "")
    console.print(table)


@user_app.command("deactivate")
def user_deactivate(username: Annotated[str, typer.Argument(help="The user.")]) -> None:
    """Stop a user signing in; their sessions end at once."""
    from activation.adapters.accounts import Accounts

    Accounts(runtime().engine).deactivate(username)
    console.print(f"{username} can no longer sign in.")
