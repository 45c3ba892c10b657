"""The media nameko service: owner of evidence objects (MinIO) and their metadata.

The spine serves health, readiness (database, broker, object store) and its API document;
upload, checks and fingerprints arrive with the media issue.
"""

from __future__ import annotations

from collections.abc import Callable

from nameko.extensions import DependencyProvider

from gongyi.dependencies import Database, SettingsProvider
from gongyi.health import check_broker, check_database, check_object_store
from gongyi.http.api import Api
from gongyi.http.platform import platform_routes
from gongyi.objectstore import make_object_client

api = Api("media", "gongyi media API", "Evidence files: upload, checks, fingerprints, download links.")


class ObjectStore(DependencyProvider):
    def setup(self) -> None:
        self.settings = self.container.config["GONGYI"]
        self.client = make_object_client(self.settings)

    def get_dependency(self, worker_ctx):  # noqa: ANN001, ANN201
        return self


class MediaService(platform_routes(api)):
    name = "media"
    db = Database()
    store = ObjectStore()
    settings = SettingsProvider()

    def readiness_checks(self) -> dict[str, Callable[[], None]]:
        return {
            "database": lambda: check_database(self.db.session.get_bind()),
            "broker": lambda: check_broker(self.settings.amqp_uri),
            "object_store": lambda: check_object_store(self.store.client, self.settings.s3_evidence_bucket),
        }
