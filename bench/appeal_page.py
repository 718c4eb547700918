"""Requests per second of the article page with an experiment running vs without, in one run.

Starts gunicorn with the production config (`newsroom.gunicorn_conf`: gthread, its threads per
worker, access log on; DEBUG off, Redis cache) on a free loopback port and drives it with
`wrk` (C, one thread: apt-get install wrk). Rounds alternate between "no experiment" (the live
appeal alone) and "experiment running" (two variants, 1:1): every request is a first visit (no
cookie), so each one with the experiment draws a variant, sets its cookie and counts an
impression in Redis, the worst case. Before and after, the same wrk against gunicorn serving a
bare WSGI app prints the ceiling of server + load generator on this machine. At the end the
counters are folded and the impressions counted are compared with the requests made.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/nr_appeal_bench \
      REDIS_URL=redis://127.0.0.1:6379/13 python bench/appeal_page.py [--seconds 8 --rounds 4]

It creates the database if missing (its own; never another's) and flushes only the Redis db it
is given. Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
HELLO = 'def app(environ, start_response):\n    start_response("200 OK", [("Content-Type", "text/plain")])\n    return [b"ok"]\n'  # noqa: E501
START = """
from donations.appeals.models import Appeal, Experiment, Variant
from donations.appeals.services.appeals import experiment_start
appeal = Appeal.objects.get(is_live=True)
experiment = Experiment.objects.create(appeal=appeal, name="bench")
Variant.objects.create(experiment=experiment, name="A", weight=1)
Variant.objects.create(experiment=experiment, name="B", weight=1, heading="A shorter letter",
                       letter="We are small. <strong>Your gift keeps us here.</strong>")
experiment_start(experiment=experiment)
"""
STOP = """
from donations.appeals.models import Experiment
from donations.appeals.services.appeals import experiment_stop
for experiment in Experiment.objects.filter(status="running"):
    experiment_stop(experiment=experiment)
"""
CLEAR = """
Experiment.objects.filter(name="bench").delete()  # an earlier run's experiments and counts
"""
FOLD = """
from django.db.models import Sum
from donations.appeals.models import VariantDay
from donations.appeals.services.counting import fold_counters
fold_counters()
print(VariantDay.objects.filter(variant__experiment__name="bench").aggregate(n=Sum("impressions"))["n"] or 0)
"""  # noqa: E501


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def environment(port: int, var_dir: str) -> dict[str, str]:
    database, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
    if not database.startswith("postgres") or not redis_url:
        sys.exit("Set DATABASE_URL (PostgreSQL, a bench database) and REDIS_URL (a spare db).")
    return {
        **os.environ,
        "DEBUG": "false", "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": f"http://127.0.0.1:{port}", "EMAIL_URL": "console://",
        "STRIPE_SECRET_KEY": "sk_test_bench", "STRIPE_WEBHOOK_SECRET": "whsec_bench",
        "SECURE_SSL_REDIRECT": "false", "VAR_DIR": var_dir, "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "newsroom.settings",
    }  # fmt: skip


def create_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        found = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if found.fetchone() is None:
            connection.execute(f'CREATE DATABASE "{name}"')


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode:
        sys.exit(f"manage.py {args[0]} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def serve(env: dict[str, str], port: int, app: str, *extra: str) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", app, "--bind", f"127.0.0.1:{port}", *extra],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"gunicorn ({app}) exited during start-up")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as answer:
                if answer.status == 200:
                    return server
        except OSError:
            time.sleep(0.2)
    sys.exit(f"gunicorn ({app}) did not answer within 30 s")


def wrk(port: int, seconds: int, connections: int) -> tuple[float, int, int]:
    """(requests/s, requests, errors) of one wrk run (one thread)."""
    done = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", f"http://127.0.0.1:{port}/"],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", done.stdout).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", done.stdout).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", done.stdout)
    errors = re.search(r"Socket errors:.*?(\d+) read, (\d+) write, (\d+) timeout", done.stdout)
    failed = int(bad.group(1)) if bad else 0
    failed += sum(int(n) for n in errors.groups()) if errors else 0
    return rate, total, failed


def cpu_seconds(server: subprocess.Popen[bytes]) -> float:
    """User + system CPU of gunicorn's master and workers so far (robust to a busy machine:
    time spent waiting for a core is not counted)."""
    import psutil

    master = psutil.Process(server.pid)
    total = 0.0
    for process in [master, *master.children(recursive=True)]:
        times = process.cpu_times()
        total += times.user + times.system
    return total


def neighbours() -> str:
    """What else used the CPU (the machine is shared): the busiest processes but ours."""
    done = subprocess.run(
        ["ps", "-eo", "pcpu,comm", "--sort=-pcpu"], capture_output=True, text=True, check=False
    )
    lines = [line.split(None, 1) for line in done.stdout.splitlines()[1:8]]
    return ", ".join(f"{name.strip()} {cpu}%" for cpu, name in lines if float(cpu) >= 5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=8, help="per round and state")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install wrk")

    with tempfile.TemporaryDirectory(prefix="bench-appeal-") as var_dir:
        port, bare_port = free_port(), free_port()
        env = environment(port, var_dir)
        create_database(env["DATABASE_URL"])
        subprocess.run(["redis-cli", "-u", env["REDIS_URL"], "flushdb"], check=True,
                       capture_output=True)  # fmt: skip
        manage(env, "migrate", "--noinput")
        manage(env, "collectstatic", "--noinput")
        manage(env, "shell", "-c", STOP + CLEAR)
        Path(var_dir, "hello.py").write_text(HELLO)
        bare_env = {**env, "PYTHONPATH": var_dir}
        conf = ["-c", "python:newsroom.gunicorn_conf", "--workers", str(args.workers)]
        bare = serve(bare_env, bare_port, "hello:app", *conf[2:], "--worker-class", "gthread",
                     "--threads", "8")  # fmt: skip
        server = serve(env, port, "newsroom.wsgi:application", *conf)
        try:
            wrk(port, 2, args.connections)  # warm: templates compiled, connections open
            ceiling = [wrk(bare_port, args.seconds, args.connections)[0]]
            rates: dict[str, list[float]] = {"without": [], "with": []}
            made = {"without": 0, "with": 0}
            cpu = {"without": 0.0, "with": 0.0}
            measured = {"without": 0, "with": 0}
            failed = 0
            loads = []
            for _ in range(args.rounds):
                for state in ("without", "with"):
                    manage(env, "shell", "-c", START if state == "with" else STOP)
                    _, warm, _ = wrk(port, 1, args.connections)  # workers reload the appeal
                    before = cpu_seconds(server)
                    rate, total, bad = wrk(port, args.seconds, args.connections)
                    cpu[state] += cpu_seconds(server) - before
                    measured[state] += total
                    made[state] += warm
                    rates[state].append(rate)
                    made[state] += total
                    failed += bad
                    loads.append(os.getloadavg()[0])
            ceiling.append(wrk(bare_port, args.seconds, args.connections)[0])
            busy = neighbours()
            manage(env, "shell", "-c", STOP)
            counted = int(manage(env, "shell", "-c", FOLD).strip().splitlines()[-1])
        finally:
            for process in (server, bare):
                process.terminate()
                process.wait(timeout=30)

    without, with_ = statistics.median(rates["without"]), statistics.median(rates["with"])
    print(f"gunicorn production config (threads: newsroom/gunicorn_conf.py), {args.workers} "
          "workers; wrk 1 thread, "
          f"{args.connections} connections, {args.rounds} rounds x {args.seconds:g} s per state; "
          f"PostgreSQL + Redis; {os.cpu_count()} cores")  # fmt: skip
    print(
        f"ceiling (bare WSGI app, same server and wrk): {min(ceiling):.0f}-{max(ceiling):.0f} req/s"
    )
    for state, label in (
        ("without", "article /, no experiment"),
        ("with", "article /, experiment running"),
    ):
        values = " ".join(f"{v:.0f}" for v in rates[state])
        print(
            f"{label:<32} median {statistics.median(rates[state]):>6.0f} req/s   rounds: {values}"
        )
    print(f"difference: {100 * (without - with_) / without:+.1f}% (with vs without, medians)")
    per = {state: 1000 * cpu[state] / max(measured[state], 1) for state in cpu}
    print(f"gunicorn CPU per request: {per['without']:.2f} ms without, {per['with']:.2f} ms with "
          f"({100 * (per['with'] - per['without']) / per['without']:+.1f}%); on {os.cpu_count()} "
          f"idle cores that is {1000 * (os.cpu_count() or 1) / per['without']:.0f} and "
          f"{1000 * (os.cpu_count() or 1) / per['with']:.0f} req/s before the client's, Redis' "
          "and the kernel's share")  # fmt: skip
    print(f"errors: {failed}; impressions counted {counted} for {made['with']} requests wrk "
          "completed with the experiment (wrk leaves out those in flight at its end)")  # fmt: skip
    print(f"load average during rounds: {min(loads):.1f}-{max(loads):.1f}; "
          f"other busy processes: {busy or 'none'}")  # fmt: skip


if __name__ == "__main__":
    main()
