"""`gongyi console ...`: the console's own commands (the first staff account, a session's age)."""

from __future__ import annotations

import click


@click.group("console")
def console_group() -> None:
    """The browser console: accounts and invitations."""


@console_group.command("invite")
@click.option("--role", required=True, type=click.Choice(["staff", "unit", "expert"]))
@click.option("--email", required=True)
@click.option("--name", default="")
@click.option("--unit", "unit_code", default=None, help="the unit's code (role unit)")
@click.option("--expert", "expert_id", default=None, help="the expert's id (role expert)")
def invite(role: str, email: str, name: str, unit_code: str | None, expert_id: str | None) -> None:
    """Invite an account (the first staff account comes this way) and print the invitation link."""
    from sqlalchemy.orm import sessionmaker

    from gongyi.config import load_settings
    from gongyi.db import UnitOfWork, make_engine, migrate
    from services.console import handlers
    from services.console.config import console_origin, load_console_env

    settings, env = load_settings(), load_console_env()
    migrate("console", settings.db_url("console"))
    engine = make_engine(settings.db_url("console"))
    try:
        with UnitOfWork(sessionmaker(engine, expire_on_commit=False), "console") as uow:
            account, link = handlers.invite(uow, email=email, role=role, name=name, unit_code=unit_code,
                                            expert_id=expert_id, origin=console_origin(settings, env),
                                            ttl_s=env.invite_ttl_s)
    finally:
        engine.dispose()
    click.echo(link)
