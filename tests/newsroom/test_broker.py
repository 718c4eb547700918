"""The broker transport: kombu's Redis transport, publishing through one client per channel."""

from __future__ import annotations

import base64
import json
from unittest import mock

import redis
from kombu import Connection

from newsroom.broker import Channel, Transport
from newsroom.celery_app import app
from tests.services import need_redis


def test_celery_publishes_through_our_transport_when_the_broker_is_redis() -> None:
    need_redis()
    with app.connection_for_write() as connection:
        assert isinstance(connection.transport, Transport)


def publishing_clients(made: mock.Mock) -> int:
    return sum(not call.kwargs.get("asynchronous") for call in made.call_args_list)


def test_a_channel_makes_one_client_for_many_messages_and_a_new_one_after_a_disconnect() -> None:
    url = need_redis()
    queue = "newsroom-broker-test"
    direct = redis.Redis.from_url(url)
    direct.delete(queue)
    made = mock.Mock(wraps=Channel._create_client)  # type: ignore[attr-defined]
    with (
        mock.patch.object(Channel, "_create_client", autospec=True, side_effect=made),
        Connection(url, transport=Transport) as connection,
    ):
        producer = connection.Producer()
        for n in range(20):
            producer.publish({"n": n}, routing_key=queue, serializer="json")
        assert publishing_clients(made) == 1  # (the channel's consumer client is kombu's own)
        channel = producer.channel
        assert isinstance(channel, Channel)
        channel._disconnect_pools()  # as after a fork, or when kombu closes the pools
        producer.publish({"n": 20}, routing_key=queue, serializer="json")
        assert publishing_clients(made) == 2
    messages = [json.loads(raw) for raw in direct.lrange(queue, 0, -1)]
    bodies = [json.loads(base64.b64decode(message["body"])) for message in messages]
    assert sorted(body["n"] for body in bodies) == list(range(21))
    direct.delete(queue)
