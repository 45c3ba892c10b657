"""The embedded broker: kombu's in-memory transport, made to carry messages as RabbitMQ does.

kombu's virtual transports keep ``content_type`` and ``content_encoding`` beside a message's
properties, while AMQP carries them inside. nameko's RPC responder reads
``message.properties['content_type']`` to answer in the caller's encoding, so over the stock
``memory://`` transport every RPC reply raised ``KeyError`` and killed the answering container.
This transport puts them where AMQP does; ``memory://`` URIs resolve to it once this module is
imported (``gongyi.config`` does, so every process that reads settings has it).
"""

from __future__ import annotations

from typing import Any

from kombu.transport import TRANSPORT_ALIASES, memory


class Channel(memory.Channel):
    def prepare_message(  # noqa: PLR0913 - kombu's signature
        self,
        body: Any,
        priority: int | None = None,
        content_type: str | None = None,
        content_encoding: str | None = None,
        headers: dict | None = None,
        properties: dict | None = None,
    ) -> dict:
        properties = dict(properties or {})
        if content_type is not None:
            properties.setdefault("content_type", content_type)
        if content_encoding is not None:
            properties.setdefault("content_encoding", content_encoding)
        return super().prepare_message(body, priority, content_type, content_encoding, headers, properties)


class Transport(memory.Transport):
    Channel = Channel


def register() -> None:
    TRANSPORT_ALIASES["memory"] = f"{__name__}:Transport"


register()
