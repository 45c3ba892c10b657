"""The publish nameko service: notices, objections, final lists, public pages, reports.

The spine serves health, readiness (database, broker) and its API document; the notice period
and everything after it arrive with the publish issue.
"""

from __future__ import annotations

from collections.abc import Callable

from gongyi.dependencies import Database, SettingsProvider
from gongyi.health import check_broker, check_database
from gongyi.http.api import Api
from gongyi.http.platform import platform_routes

api = Api("publish", "gongyi publish API", "Public notice, objections, final lists, showcase and reports.")


class PublishService(platform_routes(api)):
    name = "publish"
    db = Database()
    settings = SettingsProvider()

    def readiness_checks(self) -> dict[str, Callable[[], None]]:
        return {
            "database": lambda: check_database(self.db.session.get_bind()),
            "broker": lambda: check_broker(self.settings.amqp_uri),
        }
