"""The media nameko service: owner of evidence objects (MinIO) and their metadata. Thin: the work
is in handlers, the rules in domain/.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from nameko.extensions import DependencyProvider
from nameko.rpc import rpc
from nameko.timer import timer

from gongyi.dependencies import Database, SettingsProvider
from gongyi.events.consumer import event_handler
from gongyi.health import check_broker, check_database, check_object_store
from gongyi.http.api import PUBLIC, Api
from gongyi.http.auth import Principal, principal_from_header
from gongyi.http.platform import platform_routes
from gongyi.objectstore import make_object_client
from services.media import handlers
from services.media.config import MediaConfig, load_media_config
from services.media.domain.access import Viewer
from services.media.domain.refusals import refuse
from services.media.entrypoints.schemas import (
    DownloadOut,
    EvidenceOut,
    MediaReportIn,
    UploadQuery,
    UploadStartIn,
    UploadStartOut,
    evidence_out,
)
from services.media.storage.objects import EvidenceObjects

log = logging.getLogger(__name__)
api = Api("media", "gongyi media API", "Evidence files: upload, checks, fingerprints, download links.")
NOT_FOUND = (404, "evidence_not_found", "no such evidence visible to the caller")
REFUSALS = [
    (413, "too_large", "more bytes than the kind's limit"),
    (415, "unknown_type", "content is not an accepted type"),
    (415, "type_mismatch", "content differs from the declared kind or Content-Type"),
    (415, "polyglot", "a second format inside the file"),
    (422, "empty_file", "zero bytes"),
    (422, "corrupt_file", "undecodable or truncated"),
    (422, "decompression_bomb", "too many pixels"),
    (422, "low_resolution", "below the call's minimum resolution"),
    (422, "resolution_too_high", "video frame too large"),
    (422, "zero_duration", "video without duration"),
    (422, "too_long", "video too long"),
    (422, "no_video_stream", "no video stream"),
    (503, "object_store_unavailable", "object storage is down"),
]
PURGE_INTERVAL_S = load_media_config().purge_interval_s


class ObjectStore(DependencyProvider):
    """The MinIO client, the two buckets and media's own settings."""

    def setup(self) -> None:
        self.settings = self.container.config["GONGYI"]
        self.client = make_object_client(self.settings)
        self.objects = EvidenceObjects(
            self.client, self.settings.s3_quarantine_bucket, self.settings.s3_evidence_bucket
        )
        self.config: MediaConfig = load_media_config()

    def get_dependency(self, worker_ctx):  # noqa: ANN001, ANN201
        return self


def _owner(principal: Principal) -> handlers.Owner:
    return handlers.Owner(principal.sub, principal.org)


def _viewer(principal: Principal | None) -> Viewer | None:
    if principal is None:
        return None
    return Viewer(principal.role, principal.sub, principal.unit, principal.expert)


def _upload_stream(request):  # noqa: ANN001, ANN202
    """The body as a stream, never buffered: werkzeug's ``request.stream`` for a Content-Length
    body; for chunked bodies werkzeug returns an empty stream (the server does not set
    ``wsgi.input_terminated``), but eventlet's input decodes and terminates chunks itself."""
    if request.headers.get("Transfer-Encoding", "").lower() == "chunked":
        return request.environ["wsgi.input"]
    if request.content_length is None:
        refuse("body_required")
    return request.stream


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

    def _principal(self, request) -> Principal | None:  # noqa: ANN001
        header = request.headers.get("Authorization")
        return principal_from_header(self.settings, header) if header else None

    # -- uploads
    @api.route(
        "POST",
        "/evidence",
        summary="Upload evidence, streamed through the service / 上传证明材料",
        roles=("applicant", "staff"),
        query=UploadQuery,
        status=201,
        response=EvidenceOut,
        errors=[(400, "body_required", "no body"), *REFUSALS],
        raw_body="application/octet-stream",
        pass_request=True,
    )
    def upload_evidence(self, principal: Principal, query: UploadQuery, request) -> EvidenceOut:  # noqa: ANN001
        """The raw file is the body (Content-Length or chunked). Its type is decided by content;
        the Content-Type header and ``filename`` are only compared or shown."""
        with self.db as uow:
            row = handlers.ingest(
                uow,
                self.store.objects,
                self.store.config,
                _upload_stream(request),
                _owner(principal),
                query.kind,
                declared_mime=request.headers.get("Content-Type"),
                display_name=query.filename,
            )
        return evidence_out(row, owner_view=True)

    @api.route(
        "POST",
        "/uploads",
        summary="Start a presigned upload into quarantine / 申请直传链接",
        roles=("applicant", "staff"),
        body=UploadStartIn,
        response=UploadStartOut,
        status=201,
        errors=[(413, "too_large", "declared size over the kind's limit"), (422, "empty_file", "size is zero")],
    )
    def start_upload(self, principal: Principal, body: UploadStartIn) -> dict:
        with self.db as uow:
            return handlers.start_upload(
                uow, self.store.objects, self.store.config, _owner(principal), body.kind, body.size, body.filename
            )

    @api.route(
        "POST",
        "/uploads/{upload_id}/complete",
        summary="Verify a presigned upload and store it / 完成直传并检查",
        roles=("applicant", "staff"),
        response=EvidenceOut,
        errors=[
            (404, "upload_not_found", "no such upload of the caller"),
            (409, "upload_missing", "nothing was PUT yet"),
            (409, "upload_not_pending", "already finished"),
            (410, "upload_expired", "the link expired"),
            *REFUSALS,
        ],
    )
    def complete_upload(self, principal: Principal, upload_id: str) -> EvidenceOut:
        with self.db as uow:
            row = handlers.complete_upload(uow, self.store.objects, self.store.config, _owner(principal), upload_id)
        return evidence_out(row, owner_view=True)

    @api.route(
        "POST",
        "/media-reports",
        summary="Cite a media report: link plus screenshot / 登记媒体报道",
        roles=("applicant", "staff"),
        body=MediaReportIn,
        response=EvidenceOut,
        status=201,
    )
    def create_media_report(self, principal: Principal, body: MediaReportIn) -> EvidenceOut:
        with self.db as uow:
            row = handlers.create_media_report(uow, _owner(principal), body.model_dump(mode="json"))
        return evidence_out(row, owner_view=True)

    # -- reading
    @api.route(
        "GET",
        "/evidence/{evidence_id}",
        summary="Evidence metadata / 证明材料信息",
        roles=PUBLIC,
        response=EvidenceOut,
        errors=[NOT_FOUND, (401, "invalid_token", "a token was sent but is not valid")],
        pass_request=True,
    )
    def get_evidence(self, evidence_id: str, request) -> EvidenceOut:  # noqa: ANN001
        """Owner, staff, the application's unit and assigned experts; anyone once published.
        The token is optional (published evidence)."""
        principal = self._principal(request)
        with self.db as uow:
            row = handlers.readable_evidence(uow, _viewer(principal), evidence_id)
        owner_view = principal is not None and (principal.role == "staff" or principal.sub == row["owner_sub"])
        return evidence_out(row, owner_view)

    @api.route(
        "GET",
        "/evidence/{evidence_id}/download",
        summary="A short-lived download link / 下载链接",
        roles=PUBLIC,
        response=DownloadOut,
        errors=[
            NOT_FOUND,
            (401, "invalid_token", "a token was sent but is not valid"),
            (409, "no_file", "a media report has no file"),
        ],
        pass_request=True,
    )
    def download_evidence(self, evidence_id: str, request) -> dict:  # noqa: ANN001
        with self.db as uow:
            return handlers.download_link(
                uow, self.store.objects, self.store.config, _viewer(self._principal(request)), evidence_id
            )

    @api.route(
        "DELETE",
        "/evidence/{evidence_id}",
        summary="Delete unattached evidence / 删除证明材料",
        roles=("applicant", "staff"),
        status=204,
        errors=[
            NOT_FOUND,
            (403, "evidence_not_owned", "only the owner may delete"),
            (409, "evidence_attached", "attached to a forwarded application"),
        ],
    )
    def delete_evidence(self, principal: Principal, evidence_id: str):  # noqa: ANN201
        from werkzeug.wrappers import Response

        with self.db as uow:
            handlers.delete_evidence(uow, self.store.objects, _viewer(principal), evidence_id)
        return Response(status=204)

    # -- for intake
    @rpc
    def evidence_summary(self, ids: list[str]) -> dict[str, dict[str, str]]:
        with self.db as uow:
            return handlers.evidence_summary(uow, list(ids or []))

    # -- scheduled
    @timer(interval=PURGE_INTERVAL_S)
    def purge_unattached(self) -> None:
        with self.db as uow:
            result = handlers.purge_unattached(uow, self.store.objects, self.store.config, datetime.now(UTC))
        if any(result.values()):
            log.info("media purge: %s", result)

    # -- access grants from events
    @event_handler("intake", "application.forwarded.v1")
    def on_application_forwarded(self, event: dict) -> None:
        with self.db as uow:
            handlers.record_forwarded(uow, event)

    @event_handler("review", "assignment.made.v1")
    def on_assignment_made(self, event: dict) -> None:
        with self.db as uow:
            handlers.record_assignment(uow, event, assigned=True)

    @event_handler("review", "assignment.removed.v1")
    def on_assignment_removed(self, event: dict) -> None:
        with self.db as uow:
            handlers.record_assignment(uow, event, assigned=False)

    @event_handler("publish", "list.published.v1")
    def on_list_published(self, event: dict) -> None:
        with self.db as uow:
            handlers.record_published(uow, event)
