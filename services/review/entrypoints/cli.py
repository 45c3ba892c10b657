"""The review service's own ``gongyi`` commands: ``gongyi reindex`` (the project search index
rebuilt from review's database) and ``gongyi duplicates check FILE.jsonl`` (an offline duplicate
check of a file of records with the service's signals, candidates and scoring).

Registered in gongyi/cli.py with::

    from services.review.entrypoints.cli import duplicates, reindex
    main.add_command(reindex)
    main.add_command(duplicates)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click


@click.command()
def reindex() -> None:
    """Rebuild the project search index from the review database and swap the alias."""
    from tqdm import tqdm

    from gongyi.config import load_settings
    from gongyi.db import make_engine
    from gongyi.search import make_search_client
    from services.review.handlers import project_count, rebuild_index
    from services.review.storage.search_index import ProjectIndex

    settings = load_settings()
    engine = make_engine(settings.db_url("review"))
    index = ProjectIndex(make_search_client(settings.search_url), settings.search_index_prefix)
    try:
        total = project_count(engine)
        with tqdm(total=total, unit="project", desc="reindex") as bar:
            name = rebuild_index(engine, index, bar.update)
    finally:
        engine.dispose()
    click.echo(f"alias {index.alias} -> {name} ({total} projects)")


@click.group()
def duplicates() -> None:
    """Duplicate detection offline / 离线查重."""


@duplicates.command("check")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="one JSON object per flagged pair, nothing else on stdout")
def check(file: Path, as_json: bool) -> None:
    """Check FILE.jsonl (one record a line: id, project_name, org_name, credit_code, unit_code,
    call_id, summary or the narrative fields, optional evidence with sha256 / phash / url) for
    projects submitted twice. 检查文件中的重复申报。

    Every line is read and checked before anything is printed: a bad line stops the command with
    its line number (exit 2) and prints nothing on stdout."""
    from services.review.domain.duplicates.batch import RecordError, check_records, parse_records

    try:
        with file.open(encoding="utf-8") as fh:
            records = parse_records(fh)
    except UnicodeDecodeError as exc:
        click.echo(f"文件不是 UTF-8 编码 / the file is not UTF-8 ({exc.reason})", err=True)
        sys.exit(2)
    except RecordError as exc:
        click.echo(f"{file}: {exc}", err=True)
        sys.exit(2)
    found = check_records(records)
    if as_json:
        out = "".join(
            json.dumps({"a": s.a_id, "b": s.b_id, "score": s.score,
                        "reasons": [{"code": r.code, "message_zh": r.message_zh, "message_en": r.message_en,
                                     "weight": r.weight} for r in s.reasons]}, ensure_ascii=False) + "\n"
            for s in found
        )
        sys.stdout.write(out)
        sys.stdout.flush()
        return
    names = {r["id"]: r.get("project_name") or "" for r in records}
    lines = [f"{len(records)} 条记录，{len(found)} 对疑似重复 / {len(records)} records, {len(found)} suspected pairs"]
    for s in found:
        lines.append(f"\n{s.a_id}「{names[s.a_id]}」 ~ {s.b_id}「{names[s.b_id]}」  score {s.score:.3f}")
        lines += [f"  + {r.message_zh} / {r.message_en}" for r in s.reasons]
        lines += [f"  - {r.message_zh} / {r.message_en}" for r in s.counter_reasons]
    click.echo("\n".join(lines))
