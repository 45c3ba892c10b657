"""Broker topology: every service's event exchange, every subscriber queue, the dead-letter path.

Nameko declares a subscriber's queue only when that subscriber starts, and publishes with
mandatory=False, so an event sent before then would vanish. Every service therefore declares the
whole topology (read from the services' own ``@event_handler`` declarations) before its relay
sends anything.
"""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass

import requests
from kombu import Exchange, Queue
from nameko.events import EventHandler

from gongyi.events.relay import event_exchange

DEAD_LETTER_EXCHANGE = "gongyi.dead-letter"
DEAD_LETTER_QUEUE = "gongyi.dead-letters"
DEAD_LETTER_POLICY = "gongyi-dlx"
# nameko names every event-handler queue "evt-<source>-<type>--<service>.<method>"
SUBSCRIBER_QUEUE_PATTERN = "^evt-"


@dataclass(frozen=True)
class Subscription:
    source: str
    event_type: str
    service: str
    method: str

    @property
    def queue_name(self) -> str:
        return f"evt-{self.source}-{self.event_type}--{self.service}.{self.method}"


def subscriptions(service_classes: list[type]) -> list[Subscription]:
    # nameko's EventHandler: gongyi.events.consumer's subclass, which every service uses, names its
    # queue the same way (and importing it here would close a circle: it imports this module)
    subs = []
    for cls in service_classes:
        for attr in dir(cls):
            for ep in getattr(getattr(cls, attr, None), "nameko_entrypoints", ()):
                if isinstance(ep, EventHandler):
                    source, event_type = ep.source_service, ep.event_type
                    subs.append(Subscription(source, event_type, cls.name, attr))
    return sorted(subs, key=lambda s: s.queue_name)


def dead_letter_exchange() -> Exchange:
    return Exchange(DEAD_LETTER_EXCHANGE, type="fanout", durable=True)


def declare_topology(channel, services: list[str], service_classes: list[type]) -> None:  # noqa: ANN001
    """Declare exchanges, subscriber queues and the dead-letter queue (all idempotent)."""
    for service in services:
        event_exchange(service)(channel).declare()
    for sub in subscriptions(service_classes):
        queue = Queue(
            sub.queue_name,
            exchange=event_exchange(sub.source),
            routing_key=sub.event_type,
            durable=True,
            auto_delete=False,
        )
        queue(channel).declare()
    dlx = dead_letter_exchange()
    dlx(channel).declare()
    Queue(DEAD_LETTER_QUEUE, exchange=dlx, durable=True)(channel).declare()


def management_base(management_url: str, amqp_uri: str) -> tuple[str, str, tuple[str, str]]:
    """(management API base URL, vhost, credentials) from the two configured URLs."""
    amqp = urllib.parse.urlparse(amqp_uri)
    vhost = urllib.parse.unquote(amqp.path[1:]) if amqp.path and amqp.path != "/" else "/"
    mgmt = urllib.parse.urlparse(management_url)
    user = mgmt.username or amqp.username or "guest"
    password = mgmt.password or amqp.password or "guest"
    base = f"{mgmt.scheme}://{mgmt.hostname}:{mgmt.port or 15672}"
    return base, vhost, (user, password)


def set_dead_letter_policy(management_url: str, amqp_uri: str) -> dict:
    """Apply the dead-letter exchange to every subscriber queue with a broker policy.

    nameko declares queues without arguments, so x-dead-letter-exchange cannot be a queue
    argument; a policy applies it to queues that already exist and to those declared later.
    """
    base, vhost, auth = management_base(management_url, amqp_uri)
    definition = {
        "pattern": SUBSCRIBER_QUEUE_PATTERN,
        "apply-to": "queues",
        "priority": 0,
        "definition": {"dead-letter-exchange": DEAD_LETTER_EXCHANGE},
    }
    url = f"{base}/api/policies/{urllib.parse.quote(vhost, safe='')}/{DEAD_LETTER_POLICY}"
    resp = requests.put(
        url, auth=auth, data=json.dumps(definition), headers={"content-type": "application/json"}, timeout=10
    )
    resp.raise_for_status()
    return definition
