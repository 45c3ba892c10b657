"""Intake's commands, registered in gongyi/cli.py with ``main.add_command``:

- `gongyi import applications FILE.xlsx --unit U`: the bulk entry of the staff API, from a shell.
  It runs the same use case as ``POST /api/intake/imports`` against intake's database, with a
  progress bar.
- `gongyi uscc [-n N] [--type T | --prefix PP] [--region RRRRRR]`: valid sample 统一社会信用代码
  for trying the platform out (no database, no network).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click


@click.command("applications")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--unit", required=True, help="recommending unit code the rows are addressed to")
@click.option("--call", "call_id", default=None, help="call id (default: the call the template was made for)")
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="write the full JSON report here")
def import_applications(file: Path, unit: str, call_id: str | None, report: Path | None) -> None:
    """Import a filled XLSX template: each valid row becomes a draft of UNIT, each other row an error.

    Exit status: 0 every row imported, 3 some rows refused (see the report), 2 the file was refused.
    """
    from sqlalchemy.orm import sessionmaker
    from tqdm import tqdm

    from gongyi.config import load_settings
    from gongyi.db import UnitOfWork, make_engine
    from gongyi.errors import DomainError
    from services.intake import handlers
    from services.intake.domain.xlsx_import import template_info

    settings = load_settings()
    engine = make_engine(settings.db_url("intake"))
    try:
        with file.open("rb") as stream:
            made_for, rows = template_info(stream)
            call_id = call_id or made_for
            if not call_id:
                raise click.UsageError("the workbook does not name its call: pass --call")
            with tqdm(total=rows, unit="row", desc=f"import {file.name}") as bar, UnitOfWork(
                sessionmaker(engine), "intake"
            ) as uow:
                _, result = handlers.import_workbook(uow, unit, call_id, stream, progress=bar.update)
    except DomainError as err:
        click.echo(json.dumps(err.to_dict(), ensure_ascii=False, indent=2), err=True)
        sys.exit(2)
    finally:
        engine.dispose()
    if report:
        report.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    replayed = " (同一文件已导入过，未重复创建 / already imported, nothing created)" if result["replayed"] else ""
    click.echo(f"created {len(result['created'])} drafts, {len(result['errors'])} rows refused{replayed}")
    for err in result["errors"]:
        for issue in err["issues"]:
            click.echo(f"  row {err['row']}: {issue['code']} {issue.get('path', '')}: {issue['message_zh']}")
    sys.exit(3 if result["errors"] else 0)


@click.group("import")
def import_group() -> None:
    """Bulk imports (XLSX)."""


import_group.add_command(import_applications)


@click.command("uscc")
@click.option("-n", "--count", default=5, show_default=True, type=click.IntRange(1, 10_000),
              help="how many codes")
@click.option("--prefix", default=None,
              help="registration authority + organisation kind, e.g. 53 (民政·基金会), 91 (企业); see --kinds")
@click.option("--type", "applicant_type", default=None,
              help="an applicant type of the shipped calls instead of --prefix (government, social_organisation, "
                   "enterprise_institution, news_media, commercial_platform)")
@click.option("--region", default="110108", show_default=True,
              help="six-digit administrative area code (GB/T 2260), e.g. 110108 北京市海淀区, 410105 郑州市金水区")
@click.option("--seed", default=None, type=int, help="the same seed prints the same codes")
@click.option("--kinds", "list_kinds", is_flag=True, help="list the common prefixes and exit")
def uscc(count: int, prefix: str | None, applicant_type: str | None, region: str, seed: int | None,
         list_kinds: bool) -> None:
    """Print COUNT valid sample unified social credit codes (统一社会信用代码, GB 32100-2015), one a line.

    Both check characters (GB 11714 at position 17, GB 32100 at 18) are computed, so the form
    accepts them. They are for trying the platform out: never use one for a real organisation.
    """
    from services.intake.domain.uscc import KIND_FOR_APPLICANT_TYPE, KINDS, sample_credit_codes

    if list_kinds:
        for code, label in KINDS.items():
            click.echo(f"{code}  {label}")
        return
    if prefix and applicant_type:
        raise click.UsageError("give --prefix or --type, not both")
    if applicant_type:
        if applicant_type not in KIND_FOR_APPLICANT_TYPE:
            raise click.BadParameter(f"one of {', '.join(KIND_FOR_APPLICANT_TYPE)}", param_hint="--type")
        prefix = KIND_FOR_APPLICANT_TYPE[applicant_type]
    try:
        codes = sample_credit_codes(count, (prefix or "53").upper(), region, seed)
    except ValueError as err:
        raise click.BadParameter(str(err)) from None
    for code in codes:
        click.echo(code)
