"""The `gongyi` command line: run, serve, migrate, tokens, broker setup, calls, index, contracts, event
replay, dead letters."""

from __future__ import annotations

import eventlet

# nameko needs eventlet's patches before anything opens a socket or a thread
eventlet.monkey_patch()

import json  # noqa: E402
import logging  # noqa: E402
import sys  # noqa: E402

import click  # noqa: E402

from gongyi.config import CONSOLE, SERVICES, load_settings  # noqa: E402
from gongyi.logging import configure_logging  # noqa: E402


@click.group()
def main() -> None:
    """gongyi: calls for outstanding internet public-welfare projects (网络公益项目征集)."""
    configure_logging(load_settings().log_level)


@main.command()
@click.option("--port", default=None, type=int, help="base URL port (default GONGYI_HTTP_PORT or 8000; 0 = free)")
@click.option("--search-port", default=None, type=int, help="search server port (default GONGYI_SEARCH_PORT; 0 = free)")
@click.option("--s3-port", default=None, type=int, help="S3 server port (default GONGYI_S3_PORT; 0 = free)")
def run(port: int | None, search_port: int | None, s3_port: int | None) -> None:
    """Run the whole platform in one process on embedded defaults."""
    from gongyi.runner import run_embedded

    run_embedded(port, search_port, s3_port)


@main.command()
@click.argument("service", type=click.Choice((*SERVICES, CONSOLE)))
def serve(service: str) -> None:
    """Run one service (what each container runs in a cluster)."""
    from gongyi.runner import serve as serve_one

    serve_one(service)


@main.command()
@click.argument("service", default="all", type=click.Choice((*SERVICES, CONSOLE, "all")))
def migrate(service: str) -> None:
    """Apply database migrations (idempotent)."""
    from gongyi.db import migrate as run_migrations

    settings = load_settings()
    for name in (*SERVICES, CONSOLE) if service == "all" else (service,):
        run_migrations(name, settings.db_url(name))
        click.echo(f"{name}: migrated")


@main.group()
def migrations() -> None:
    """Check or write migrations from the table definitions in each service's storage/tables.py."""


@migrations.command("check")
@click.argument("service", default="all", type=click.Choice((*SERVICES, CONSOLE, "all")))
def migrations_check(service: str) -> None:
    """Fail when a table definition has changes that no migration makes (database at head)."""
    from gongyi.db import MigrationDrift, check_migrations

    settings = load_settings()
    failed = False
    for name in (*SERVICES, CONSOLE) if service == "all" else (service,):
        try:
            check_migrations(name, settings.db_url(name))
            click.echo(f"{name}: migrations match the tables")
        except MigrationDrift as exc:
            failed = True
            click.echo(str(exc), err=True)
    if failed:
        raise SystemExit(1)


@migrations.command("new")
@click.argument("service", type=click.Choice((*SERVICES, CONSOLE)))
@click.option("-m", "--message", required=True, help="What the change does, in a few words.")
def migrations_new(service: str, message: str) -> None:
    """Generate the next migration from the table definitions (review it before committing)."""
    from gongyi.db import new_migration

    path = new_migration(service, load_settings().db_url(service), message)
    click.echo(str(path))


@main.command()
@click.option("--role", required=True, type=click.Choice(["applicant", "unit", "expert", "staff"]))
@click.option("--sub", default=None, help="subject (user id); random when omitted")
@click.option("--name", default="", help="display name")
@click.option("--org", default=None, help="applicant organisation id (credit code)")
@click.option("--unit", default=None, help="recommending unit code (role unit)")
@click.option("--expert", default=None, help="expert id (role expert)")
@click.option("--ttl", default=None, type=int, help="seconds until expiry")
def token(
    role: str, sub: str | None, name: str, org: str | None, unit: str | None, expert: str | None, ttl: int | None
) -> None:
    """Mint a token (with the configured secret) and print it."""
    from gongyi.http.auth import issue_token

    if role == "unit" and not unit:
        raise click.UsageError("--unit is required for role unit")
    if role == "expert" and not expert:
        raise click.UsageError("--expert is required for role expert")
    click.echo(issue_token(load_settings(), role, sub, name=name, org=org, unit=unit, expert=expert, ttl=ttl))


@main.group()
def broker() -> None:
    """Broker topology."""


@broker.command("setup")
def broker_setup() -> None:
    """Declare exchanges, subscriber queues, the dead-letter queue, and the dead-letter policy."""
    from kombu import Connection

    from gongyi.events.topology import declare_topology, set_dead_letter_policy
    from gongyi.registry import service_classes

    settings = load_settings()
    with Connection(settings.amqp_uri) as conn:
        declare_topology(conn.default_channel, list(SERVICES), service_classes())
    if settings.rabbitmq_management_url:
        set_dead_letter_policy(settings.rabbitmq_management_url, settings.amqp_uri)
        click.echo("dead-letter policy set")
    else:
        click.echo("GONGYI_RABBITMQ_MANAGEMENT_URL is not set: dead-letter policy not applied", err=True)
    click.echo("topology declared")


@main.group()
def call() -> None:
    """Call documents."""


@call.command("load")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
def call_load(files: tuple[str, ...]) -> None:
    """Validate and load call documents (each load is a new version)."""
    from gongyi.errors import DomainError
    from gongyi.runner import load_call_files

    try:
        for result in load_call_files(load_settings(), list(files)):
            click.echo(json.dumps(result, ensure_ascii=False))
    except DomainError as err:
        click.echo(json.dumps(err.to_dict(), ensure_ascii=False, indent=2), err=True)
        sys.exit(2)


@main.command("openapi")
@click.option("--out", default="contracts/openapi", show_default=True, type=click.Path(file_okay=False))
def openapi_cmd(out: str) -> None:
    """Write every service's OpenAPI document."""
    from pathlib import Path

    from gongyi.registry import service_class

    Path(out).mkdir(parents=True, exist_ok=True)
    for name in SERVICES:
        module = sys.modules[service_class(name).__module__]
        doc = module.api.openapi()
        (Path(out) / f"{name}.json").write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
        click.echo(f"{out}/{name}.json")


@main.command("asyncapi")
@click.option("--out", default="contracts/asyncapi.yaml", show_default=True, type=click.Path(dir_okay=False))
@click.option("--check", is_flag=True, help="exit 1 if the file differs from a fresh document instead of writing")
def asyncapi_cmd(out: str, check: bool) -> None:
    """Write the AsyncAPI 3.0 document of every event (from contracts/events and the topology)."""
    from pathlib import Path

    from gongyi.events.asyncapi import generate, render

    text = render(generate())
    path = Path(out)
    if check:
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            click.echo(f"{out} is stale: run `gongyi asyncapi`", err=True)
            sys.exit(1)
        click.echo(f"{out} is up to date")
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    click.echo(out)


@main.group()
def events() -> None:
    """The event archive (outbox) and replay to late subscribers."""


@events.command("archive")
@click.option("--service", required=True, type=click.Choice(SERVICES))
@click.option("--since-id", default=0, show_default=True, type=int, help="outbox id to start after")
@click.option("--limit", default=50, show_default=True, type=int)
def events_archive(service: str, since_id: int, limit: int) -> None:
    """List archived events (id, event id, type, subject, sent) to choose where a replay starts."""
    from gongyi.db import make_engine
    from gongyi.events.replay import archive_summary

    engine = make_engine(load_settings().db_url(service))
    try:
        for row in archive_summary(engine, since_id, limit):
            click.echo(json.dumps(row, ensure_ascii=False))
    finally:
        engine.dispose()


@events.command("replay")
@click.option("--service", required=True, type=click.Choice(SERVICES), help="the producing service")
@click.option("--since-id", default=0, show_default=True, type=int, help="replay outbox ids after this one")
@click.option("--until-id", default=None, type=int, help="stop at this outbox id (inclusive)")
@click.option("--type", "types", multiple=True, help="only this event type (repeatable)")
@click.option("--to-queue", default=None, help="publish straight to this queue instead of the exchange")
def events_replay(service: str, since_id: int, until_id: int | None, types: tuple[str, ...],
                  to_queue: str | None) -> None:
    """Republish archived events in order with their original ids (idempotent consumers skip repeats)."""
    from gongyi.db import make_engine
    from gongyi.events.replay import ReplayError, replay

    settings = load_settings()
    engine = make_engine(settings.db_url(service))
    try:
        result = replay(engine, settings.amqp_uri, service, since_id, types, to_queue, until_id)
    except ReplayError as err:
        click.echo(f"replay refused: {err}", err=True)
        sys.exit(2)
    finally:
        engine.dispose()
    target = f"queue {to_queue}" if to_queue else f"exchange {service}.events"
    click.echo(json.dumps({"target": target, **result.as_dict()}, ensure_ascii=False))


@main.group()
def dlq() -> None:
    """Dead letters: list them, replay them to their original queues."""


@dlq.command("list")
@click.option("--limit", default=None, type=int, help="look at no more than this many")
@click.option("--json", "as_json", is_flag=True, help="one JSON object per line")
def dlq_list(limit: int | None, as_json: bool) -> None:
    """Show every dead letter (id, type, original queue, reason) without removing any."""
    from gongyi.events.dlq import NoDeadLetterQueue, list_dead_letters

    try:
        letters = list_dead_letters(load_settings().amqp_uri, limit=limit)
    except NoDeadLetterQueue as err:
        click.echo(str(err), err=True)
        sys.exit(2)
    for d in letters:
        if as_json:
            click.echo(json.dumps(d.as_dict(), ensure_ascii=False, default=str))
        else:
            click.echo(f"{d.id}\t{d.type}\t{d.queue}\t{d.reason}\tx{d.count}\t{d.died_at}")
    click.echo(f"{len(letters)} dead letter(s)", err=True)


@dlq.command("replay")
@click.option("--id", "ids", multiple=True, help="event id to replay (repeatable)")
@click.option("--all", "replay_all", is_flag=True, help="replay every dead letter")
def dlq_replay(ids: tuple[str, ...], replay_all: bool) -> None:
    """Republish dead letters to their original queues and remove them from the dead letters."""
    from gongyi.events.dlq import NoDeadLetterQueue, replay_dead_letters

    if bool(ids) == replay_all:
        raise click.UsageError("give --id ID (repeatable) or --all")
    try:
        outcome = replay_dead_letters(load_settings().amqp_uri, None if replay_all else ids)
    except NoDeadLetterQueue as err:
        click.echo(str(err), err=True)
        sys.exit(2)
    for d in outcome.replayed:
        click.echo(f"replayed {d.id} ({d.type}) -> {d.queue}")
    for d, why in outcome.skipped:
        click.echo(f"skipped {d.id} ({d.type}): {why}", err=True)
    missing = set(ids) - {d.id for d in outcome.replayed} - {d.id for d, _ in outcome.skipped}
    for event_id in sorted(missing):
        click.echo(f"not in the dead letters: {event_id}", err=True)
    if outcome.skipped or missing:
        sys.exit(1)


def _register_service_commands() -> None:
    # commands whose logic belongs to one service live in that service's entrypoints
    from services.console.entrypoints.cli import console_group
    from services.intake.entrypoints.cli import import_group, uscc
    from services.review.entrypoints.cli import duplicates, reindex

    main.add_command(console_group)
    main.add_command(import_group)
    main.add_command(uscc)
    main.add_command(reindex)
    main.add_command(duplicates)


_register_service_commands()


@main.command()
@click.option("--base", default=None, help="the platform's base URL (default http://GONGYI_HTTP_HOST:GONGYI_HTTP_PORT)")
@click.option("--until", "until", default="summary", show_default=True,
              help="stop after this phase: call, evidence, drafts, submitted, forwarded, search, duplicates, "
                   "screening, experts, scoring, ranking, notice, objection, closed, published, tracking, summary")
@click.option("--notice-minutes", default=1.0, show_default=True, type=float, help="the rehearsal's notice period")
@click.option("--call-id", default=None, help="the rehearsal call's id (default demo-<time>)")
def demo(base: str | None, until: str, notice_minutes: float, call_id: str | None) -> None:
    """Run a rehearsal (演练) of a whole call against a running platform, phase by phase."""
    from gongyi.demo.scenario import PHASES, ScenarioError, run_scenario

    if until not in PHASES:
        raise click.UsageError(f"--until must be one of: {', '.join(PHASES)}")
    settings = load_settings()
    base = base or f"http://{settings.http_host}:{settings.http_port}"
    try:
        run = run_scenario(base, settings, until=until, call_id=call_id, notice_minutes=notice_minutes,
                           log=lambda line: click.echo(f"  {line}"))
    except ScenarioError as exc:
        click.echo(f"demo stopped: {exc}", err=True)
        sys.exit(1)
    click.echo(f"\nrehearsal {run.call_id} stopped after '{until}'. Look around:")
    click.echo(f"  {base}/api/intake/applications?call_id={run.call_id}   (token: gongyi token --role staff)")
    if run.notice_id:
        click.echo(f"  {base}/api/publish/notices/{run.notice_id}/page.html")
        click.echo(f"  {base}/api/publish/notices/{run.notice_id}/final.html")
    for path in run.outputs.values():
        click.echo(f"  {base}{path}")


if __name__ == "__main__":  # pragma: no cover
    logging.basicConfig()
    main()
