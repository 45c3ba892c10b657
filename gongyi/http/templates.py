"""Jinja2 for every HTML page the platform serves: autoescaping always on, templates in a folder.

One helper so that no service builds HTML from strings: the console's pages and publish's public
pages are templates rendered through an environment made here, where every value is escaped unless
a template marks it safe (and none do).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Undefined

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local_time(value: Any, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """An ISO string or datetime as Beijing time; anything else as it is."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(SHANGHAI).strftime(fmt)
    return "" if value is None else str(value)


def make_environment(folder: str | Path, undefined: type[Undefined] = StrictUndefined, **globals_: Any) -> Environment:
    """``undefined``: StrictUndefined (a misspelt name fails the test instead of rendering blank);
    pages over other services' JSON, where optional keys may be absent, pass ChainableUndefined."""
    env = Environment(
        loader=FileSystemLoader(str(folder)),
        autoescape=True,  # every template, whatever its extension
        undefined=undefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["local_time"] = local_time
    env.globals.update(globals_)
    return env


def render(env: Environment, name: str, **context: Any) -> str:
    return env.get_template(name).render(**context)
