"""`wealthgate firms|advisors|users`: onboard a firm without SQL. Each command prints what a script needs on
its last line (the new id, or the one-time password), and each change is an audit event by the operator."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from wealthgate.auth.principal import operator_actor
from wealthgate.cli.common import clean_errors, connection, fail, operator, run_db
from wealthgate.errors import Invalid
from wealthgate.firms import service
from wealthgate.people import users
from wealthgate.settings import get_settings
from wealthgate.vocabulary import USER_ROLES

firms_app = typer.Typer(help="Firms (the tenant): create.", no_args_is_help=True)
advisors_app = typer.Typer(help="A firm's advisors: create, list.", no_args_is_help=True)
users_app = typer.Typer(
    help="People who sign in to the console: create (password shown once), list, disable.",
    no_args_is_help=True,
)

Firm = Annotated[int, typer.Option(help="The firm's id.")]


@firms_app.command("create")
def firms_create(name: Annotated[str, typer.Option(help="The firm's name (unique).")]) -> None:
    """Create a firm with the standard model portfolios and the default suitability policy. An operator's
    act (an admin belongs to one firm). The new firm's id is the last line."""

    async def work(url: str) -> service.Firm:
        async with connection(url) as conn, conn.transaction():
            return await service.create_firm(
                conn, name=name, actor_for_firm=lambda f: operator_actor(f, operator())
            )

    with clean_errors():
        firm = run_db(get_settings(), work)
        typer.echo(f"created firm {firm.name!r} with the standard models and policy version 1; its id:")
        typer.echo(str(firm.id))


@advisors_app.command("create")
def advisors_create(
    firm: Firm,
    name: Annotated[str, typer.Option(help="The advisor's name.")],
    email: Annotated[str, typer.Option(help="The advisor's email (unique in the firm).")],
) -> None:
    """Create an advisor (clients are imported under an advisor's id). The new id is the last line."""

    async def work(url: str) -> service.Advisor:
        async with connection(url) as conn, conn.transaction():
            return await service.create_advisor(
                conn, firm_id=firm, name=name, email=email, actor=operator_actor(firm, operator())
            )

    with clean_errors():
        advisor = run_db(get_settings(), work)
        typer.echo(f"created advisor {advisor.name} of firm {firm}; its id:")
        typer.echo(str(advisor.id))


@advisors_app.command("list")
def advisors_list(firm: Firm) -> None:
    """The firm's advisors."""

    async def work(url: str) -> list[service.Advisor]:
        async with connection(url) as conn:
            return await service.list_advisors(conn, firm)

    with clean_errors():
        for a in run_db(get_settings(), work):
            typer.echo(f"{a.id}\t{a.name}\t{a.email}")


@users_app.command("create")
def users_create(
    firm: Firm,
    email: Annotated[str, typer.Option(help="The person's email: what they sign in with.")],
    role: Annotated[str, typer.Option(help="admin, compliance or advisor.")],
    advisor: Annotated[int | None, typer.Option(help="For an advisor user: whose book they see.")] = None,
    name: Annotated[str, typer.Option(help="The person's name (default: the email).")] = "",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Create a user. The last line is a generated one-time password (shown only here), or with
    --password-stdin (the first line of standard input) the new user's id."""
    with clean_errors():
        if role not in USER_ROLES:
            raise Invalid(f"--role must be one of {', '.join(USER_ROLES)}")
        password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
        if password_stdin and not password:
            fail("--password-stdin: standard input held no password")

        async def work(url: str) -> tuple[users.User, str | None]:
            async with connection(url) as conn, conn.transaction():
                return await service.add_user(
                    conn,
                    firm_id=firm,
                    email=email,
                    name=name,
                    role=role,
                    advisor_id=advisor,
                    password=password,
                    actor=operator_actor(firm, operator()),
                )

        user, generated = run_db(get_settings(), work)
        typer.echo(f"created {user.role} user {user.email} (id {user.id}) of firm {firm}")
        if generated is None:
            typer.echo("the password was read from standard input; the user's id:")
            typer.echo(str(user.id))
        else:
            typer.echo("their one-time password, shown only once:")
            typer.echo(generated)


@users_app.command("list")
def users_list(firm: Firm) -> None:
    """The firm's users (never their passwords)."""
    from rich.console import Console
    from rich.table import Table

    async def work(url: str) -> list[users.User]:
        async with connection(url) as conn:
            return await users.list_users(conn, firm)

    with clean_errors():
        table = Table("id", "email", "name", "role", "advisor", "created", "last sign-in", "disabled")
        for u in run_db(get_settings(), work):
            table.add_row(
                str(u.id),
                u.email,
                u.name,
                u.role,
                str(u.advisor_id or ""),
                u.created_at.isoformat(timespec="seconds"),
                u.last_sign_in_at.isoformat(timespec="seconds") if u.last_sign_in_at else "",
                u.disabled_at.isoformat(timespec="seconds") if u.disabled_at else "",
            )
        Console(width=200).print(table)


@users_app.command("disable")
def users_disable(
    firm: Firm,
    user: Annotated[int | None, typer.Option(help="The user's id (see `users list`).")] = None,
    email: Annotated[str | None, typer.Option(help="Or the user's email.")] = None,
) -> None:
    """Disable a user: they cannot sign in, their sessions end, and API keys bound to them stop working."""
    if (user is None) == (email is None):
        fail("name the user with --user ID or --email EMAIL (one of them)")

    async def work(url: str) -> users.User:
        async with connection(url) as conn, conn.transaction():
            user_id = user if email is None else (await service.user_by_email(conn, firm, email)).id
            if user_id is None:  # unreachable: one of the two was checked to be given
                raise Invalid("a user is needed")
            return await service.disable_person(
                conn, firm_id=firm, user_id=user_id, actor=operator_actor(firm, operator())
            )

    with clean_errors():
        disabled = run_db(get_settings(), work)
        typer.echo(f"disabled user {disabled.email} (id {disabled.id}) of firm {firm}")
