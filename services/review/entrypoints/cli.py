"""`gongyi reindex`: the project search index rebuilt from review's database, from a shell.

Registered in gongyi/cli.py with::

    from services.review.entrypoints.cli import reindex
    main.add_command(reindex)
"""

from __future__ import annotations

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
