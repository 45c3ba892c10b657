"""The embedded broker (``memory://``) carries nameko RPC as RabbitMQ does.

Over kombu's stock in-memory transport the responder found no ``content_type`` in the request's
properties, raised ``KeyError`` and killed the answering container: media died on the first
evidence check of `make run`. Both sides here run in real containers on the embedded broker."""

from __future__ import annotations

import eventlet
import pytest
from nameko.containers import ServiceContainer
from nameko.rpc import RpcProxy, rpc
from nameko.standalone.rpc import ClusterRpcProxy

from gongyi.config import load_settings, nameko_config


class Answering:
    name = "answering"

    @rpc
    def summary(self, ids: list[str]) -> dict:
        return {i: {"owner": "applicant-1"} for i in ids}


class Asking:
    name = "asking"
    answering = RpcProxy("answering")

    @rpc
    def ask(self, ids: list[str]) -> dict:
        return self.answering.summary(ids)


@pytest.mark.timeout(60)
def test_rpc_between_containers_on_the_embedded_broker_answers_and_keeps_them_alive():
    settings = load_settings({"GONGYI_AMQP_URI": "memory://localhost/"})
    assert settings.amqp_uri.startswith("memory://")
    containers = [
        ServiceContainer(cls, nameko_config(settings, cls.name, "127.0.0.1:0")) for cls in (Answering, Asking)
    ]
    for container in containers:
        container.start()
    try:
        config = nameko_config(settings, "client", "127.0.0.1:0")
        with ClusterRpcProxy(config, timeout=5) as cluster:
            for round_ in range(3):  # the first reply used to kill the container; later ones would hang
                with eventlet.Timeout(5):
                    assert cluster.asking.ask([f"e{round_}"]) == {f"e{round_}": {"owner": "applicant-1"}}
        assert not any(c._died.ready() for c in containers)  # noqa: SLF001 - no public "alive" flag
    finally:
        for container in containers:
            container.stop()
