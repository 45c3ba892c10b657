"""The event-handler entrypoint every service uses instead of nameko's own.

It adds what nameko lacks: the envelope is checked against its contract before any handler
runs; a failing handler is retried (the message is requeued) and dead-lettered after
GONGYI_DEAD_LETTER_AFTER attempts, never acked silently and never looped forever; the event's
correlation id follows into the events the handler emits.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from functools import partial
from typing import Any

from kombu import Producer
from nameko.containers import ContainerBeingKilled
from nameko.events import EventHandler as NamekoEventHandler

from gongyi.events.envelope import InvalidEvent, validate_event
from gongyi.events.topology import DEAD_LETTER_EXCHANGE
from gongyi.metrics import EVENTS_CONSUMED, EVENTS_DEAD_LETTERED, EVENTS_FAILED

log = logging.getLogger(__name__)
_MAX_TRACKED = 50_000


class EventHandler(NamekoEventHandler):
    def setup(self) -> None:
        super().setup()
        settings = self.container.config["GONGYI"]
        self.max_attempts = max(1, settings.dead_letter_after)
        self.in_memory_broker = settings.amqp_uri.startswith("memory")
        # classic queues carry no delivery count; quorum queues do (x-delivery-count)
        self._attempts: OrderedDict[str, int] = OrderedDict()

    def handle_message(self, body: Any, message) -> None:  # noqa: ANN001
        try:
            validate_event(body)
        except InvalidEvent as exc:
            log.error("invalid event on %s: %s", self.queue.name, exc)
            self._dead_letter(message, str(exc), body)
            return
        context_data = self.unpack_message_headers(message)
        context_data["correlation_id"] = body.get("correlationid")
        context_data["causation_id"] = body["id"]
        try:
            self.container.spawn_worker(
                self, (body,), {}, context_data=context_data, handle_result=partial(self.handle_result, message)
            )
        except ContainerBeingKilled:
            self.queue_consumer.requeue_message(message)

    def handle_result(self, message, worker_ctx, result=None, exc_info=None):  # noqa: ANN001
        body = worker_ctx.args[0]
        service, event_type = self.container.service_name, body.get("type", "?")
        key = f"{self.queue.name}:{body.get('id')}"
        if exc_info is None:
            self._attempts.pop(key, None)
            EVENTS_CONSUMED.labels(service, event_type).inc()
            self._settle(self.queue_consumer.ack_message, message)
            return result, exc_info
        EVENTS_FAILED.labels(service, event_type).inc()
        attempts = self._count_attempt(key, message)
        if attempts >= self.max_attempts:
            self._attempts.pop(key, None)
            self._dead_letter(message, f"{exc_info[0].__name__}: {exc_info[1]}", body)
        else:
            self._settle(self.queue_consumer.requeue_message, message)
        return result, exc_info

    def _settle(self, action, message) -> None:  # noqa: ANN001
        """Ack, requeue or reject; if the broker connection died meanwhile, the broker redelivers the
        message once we reconnect (the inbox absorbs the repeat), so a failure here is not fatal.
        Letting it propagate would kill the whole service container."""
        try:
            action(message)
        except Exception as exc:  # noqa: BLE001 - socket errors differ by transport
            log.warning("could not settle message on %s (%s); the broker will redeliver it", self.queue.name, exc)

    def _count_attempt(self, key: str, message) -> int:  # noqa: ANN001
        delivery_count = message.headers.get("x-delivery-count") if message.headers else None
        if delivery_count is not None:
            return int(delivery_count) + 1
        attempts = self._attempts.pop(key, 0) + 1
        self._attempts[key] = attempts
        while len(self._attempts) > _MAX_TRACKED:
            self._attempts.popitem(last=False)
        return attempts

    def _dead_letter(self, message, reason: str, body: Any) -> None:  # noqa: ANN001
        event_type = body.get("type", "?") if isinstance(body, dict) else "?"
        EVENTS_DEAD_LETTERED.labels(self.container.service_name, event_type).inc()
        log.error("dead-lettering %s from %s: %s", event_type, self.queue.name, reason)
        if self.in_memory_broker:
            # the in-memory broker has no policies: route to the dead-letter exchange ourselves
            Producer(message.channel).publish(
                message.body,
                exchange=DEAD_LETTER_EXCHANGE,
                routing_key=message.delivery_info.get("routing_key", ""),
                content_type=message.content_type,
                content_encoding=message.content_encoding,
                headers={**(message.headers or {}), "x-gongyi-queue": self.queue.name, "x-gongyi-error": reason},
            )
            self.queue_consumer.ack_message(message)
            return
        # the broker's dead-letter policy (gongyi broker setup) routes it to gongyi.dead-letters
        if message.channel.connection:
            self._settle(lambda m: m.reject(requeue=False), message)


event_handler = EventHandler.decorator
