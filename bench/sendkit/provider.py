"""The provider stand-in's own ceiling: how many recipients/s it takes from a client far
faster than the send (raw http.client on 8 connections, one prebuilt 500-recipient Mailgun
call body), so a provider figure is the pipeline's, not the stand-in's."""

from __future__ import annotations

import base64
import http.client
import json
import threading
import time
from urllib.parse import urlencode

from tests.provider_standin import API_KEY, DOMAIN, ProviderStandin


def call_body(recipients: int = 500) -> bytes:
    to = [f"reader{n}@example.org" for n in range(recipients)]
    variables = {
        address: {
            "unsubscribe_url": f"https://news.example.org/newsletter/unsubscribe/{'x' * 40}/",
            "h:List-Unsubscribe": "<https://news.example.org/u/" + "x" * 40 + "/>, <mailto:u>",
            "h:Message-Id": f"<issue1.{'0' * 24}@news.example.org>",
        }
        for address in to
    }
    fields = [("from", "news@news.example.org"), ("subject", "Bench"), ("text", "t" * 3000),
              ("html", "<p>" + "h" * 8000 + "</p>"), *[("to", address) for address in to],
              ("recipient-variables", json.dumps(variables))]  # fmt: skip
    return urlencode(fields).encode()


def standin_ceiling(standin: ProviderStandin, seconds: float = 3.0) -> float:
    body = call_body()
    recipients = body.count(b"&to=")
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Authorization": "Basic " + base64.b64encode(f"api:{API_KEY}".encode()).decode(),
    }
    done = [0]
    lock = threading.Lock()
    ends = time.monotonic() + seconds

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", standin.port, timeout=30)
        while time.monotonic() < ends:
            connection.request("POST", f"/v3/{DOMAIN}/messages", body=body, headers=headers)
            connection.getresponse().read()
            with lock:
                done[0] += recipients
        connection.close()

    before = standin.stats()["recipients"]
    started = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert standin.stats()["recipients"] - before == done[0]
    return done[0] / (time.monotonic() - started)
