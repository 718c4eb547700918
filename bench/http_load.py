"""A small HTTP/1.1 load generator, run by the benchmarks as a process of its own.

    python bench/http_load.py REQUESTS_FILE --port 8000 [--connections 16] [--marker TEXT]

REQUESTS_FILE is a pickled list of raw requests (bytes, each a whole HTTP/1.1 request with its
`Content-Length`); each is sent once, in order, over `--connections` keep-alive connections
(asyncio, one thread: a connection sends its next request when the previous answer is in).
The clock starts once every connection is open. Prints one JSON object: requests, seconds,
rate, statuses, latency percentiles (ms), and how many answers contained `--marker`.
Standard library only, so it costs the machine little beside the server it measures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import pickle
import statistics
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path


class Tally:
    def __init__(self, marker: bytes) -> None:
        self.marker = marker
        self.statuses: Counter[int] = Counter()
        self.latencies: list[float] = []
        self.marked = 0

    def add(self, status: int, body: bytes, seconds: float) -> None:
        self.statuses[status] += 1
        self.latencies.append(seconds * 1000)
        if self.marker and self.marker in body:
            self.marked += 1


async def read_answer(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """(status, body, server closes) of one HTTP/1.1 answer with a Content-Length."""
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionResetError("server closed the connection")
    status = int(status_line.split()[1])
    length, closes = 0, False
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection":
            closes = value.strip().lower() == b"close"
    return status, await reader.readexactly(length), closes


async def drive(
    host: str,
    port: int,
    requests: Iterator[bytes],
    tally: Tally,
    opened: asyncio.Event,
    connection: tuple[asyncio.StreamReader, asyncio.StreamWriter],
) -> None:
    reader, writer = connection
    await opened.wait()
    for raw in requests:  # shared by every connection: each request is sent once
        started = time.perf_counter()
        writer.write(raw)
        await writer.drain()
        status, body, closes = await read_answer(reader)
        tally.add(status, body, time.perf_counter() - started)
        if closes:
            writer.close()
            reader, writer = await asyncio.open_connection(host, port)
    writer.close()


async def run(host: str, port: int, requests: list[bytes], connections: int, marker: bytes) -> dict:
    tally = Tally(marker)
    shared = iter(requests)
    opened = asyncio.Event()
    streams = [await asyncio.open_connection(host, port) for _ in range(connections)]
    tasks = [
        asyncio.create_task(drive(host, port, shared, tally, opened, stream)) for stream in streams
    ]
    started = time.perf_counter()
    opened.set()
    await asyncio.gather(*tasks)
    seconds = time.perf_counter() - started
    ordered = sorted(tally.latencies)

    def at(share: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(len(ordered) * share))], 2)

    return {
        "requests": len(ordered),
        "seconds": round(seconds, 3),
        "rate": round(len(ordered) / seconds, 1),
        "statuses": {str(status): n for status, n in sorted(tally.statuses.items())},
        "p50": round(statistics.median(ordered), 2),
        "p95": at(0.95),
        "p99": at(0.99),
        "max": round(ordered[-1], 2),
        "marked": tally.marked,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("requests_file", type=Path)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--marker", default="", help="count the answers containing this text")
    args = parser.parse_args()
    requests = pickle.loads(args.requests_file.read_bytes())  # noqa: S301 - our own file
    result = asyncio.run(
        run(args.host, args.port, requests, args.connections, args.marker.encode())
    )
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
