"""Requests per second of the article page with an experiment running vs without, in one run.

Starts gunicorn with the production config (`newsroom.gunicorn_conf`: gthread, its threads per
worker, access log on; DEBUG off, Redis cache) on a free loopback port and drives it with
`wrk` (C, one thread: apt-get install wrk). Each round runs three states in turn: the same
gunicorn serving a trivial WSGI app (the ceiling of server + load generator on this machine
at that moment), the article with no experiment (the live appeal alone), and the article with
an experiment running (two variants, 1:1). Every request is a first visit (no cookie), so
each one with the experiment draws a variant, sets its cookie and counts an impression in
Redis, the worst case. Prints min / median / max over the rounds of each rate, of the ratio
experiment / none within a round (robust to the machine's drift: the two run seconds apart),
and of gunicorn's CPU per request (user + system of master and workers, which waiting for a
busy core does not inflate). At the end the counters are folded and the impressions counted
are compared with the requests made.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/nr_appeal_bench \
      REDIS_URL=redis://127.0.0.1:6379/13 python bench/appeal_page.py [--seconds 5 --rounds 6]

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
# The trivial app sets Django up (no middleware, no view): gunicorn's access log then goes
# through the same masking formatter as the article's, which reads the URLconf once set up.
HELLO = """import django

django.setup()


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
"""
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


def cpu_ticks() -> tuple[int, int]:
    """(stolen, all) CPU ticks of the machine so far (/proc/stat): on a virtual machine the
    host may take CPU from it ("steal"), which no process here shows and every rate feels."""
    try:
        fields = [int(value) for value in Path("/proc/stat").read_text().split()[1:9]]
    except (OSError, ValueError):
        return 0, 0
    return fields[7], sum(fields)


def stolen_since(before: tuple[int, int]) -> str:
    """The share of the machine's CPU its host took since `before`."""
    stolen, ticks = (now - then for now, then in zip(cpu_ticks(), before, strict=True))
    return f"{100 * stolen / ticks:.0f}%" if ticks > 0 else "unknown"


def neighbours() -> str:
    """What else used the CPU (the machine is shared): the busiest processes but ours."""
    done = subprocess.run(
        ["ps", "-eo", "pcpu,comm", "--sort=-pcpu"], capture_output=True, text=True, check=False
    )
    lines = [line.split(None, 1) for line in done.stdout.splitlines()[1:8]]
    return ", ".join(f"{name.strip()} {cpu}%" for cpu, name in lines if float(cpu) >= 5)


def spread(values: list[float], fmt: str = ".0f") -> str:
    """min / median / max."""
    return " / ".join(format(v, fmt) for v in (min(values), statistics.median(values), max(values)))


def report(args: argparse.Namespace, rounds: list[dict[str, float]], extra: dict[str, str]) -> None:
    cores = os.cpu_count() or 1
    print(f"gunicorn production config (threads: newsroom/gunicorn_conf.py), {args.workers} "
          "workers; wrk 1 thread, "
          f"{args.connections} connections; {len(rounds)} rounds of {args.seconds:g} s per state, "
          f"states interleaved (trivial app, no experiment, experiment); PostgreSQL + Redis; "
          f"{cores} cores")  # fmt: skip
    print(f"uptime before: {extra['uptime_before']}")
    print(f"{'':<34}{'min / median / max':>22}")
    column = [r["ceiling"] for r in rounds]
    print(f"{'ceiling: trivial WSGI app, req/s':<34}{spread(column):>22}")
    for state, label in (("without", "article, no experiment, req/s"),
                         ("with", "article, experiment, req/s")):  # fmt: skip
        print(f"{label:<34}{spread([r[state] for r in rounds]):>22}")
    ratios = [r["with"] / r["without"] for r in rounds]
    print(f"{'ratio experiment / none (pairs)':<34}{spread(ratios, '.3f'):>22}")
    for state, label in (("without", "CPU ms/request, no experiment"),
                         ("with", "CPU ms/request, experiment")):  # fmt: skip
        print(f"{label:<34}{spread([r[state + '_cpu'] for r in rounds], '.2f'):>22}")
    cpu_ratio = [r["with_cpu"] / r["without_cpu"] for r in rounds]
    print(f"{'CPU ratio experiment / none':<34}{spread(cpu_ratio, '.3f'):>22}")
    share = [r["without"] / r["ceiling"] for r in rounds]
    print(f"{'article (none) / ceiling':<34}{spread(share, '.3f'):>22}")
    cpu = statistics.median([r["without_cpu"] for r in rounds])
    cpu_with = statistics.median([r["with_cpu"] for r in rounds])
    print(f"gunicorn's CPU per request (medians) would serve {1000 * cores / cpu:.0f} req/s "
          f"without and {1000 * cores / cpu_with:.0f} with the experiment on {cores} idle cores, "
          "before wrk's, Redis' and the kernel's share")  # fmt: skip
    print(f"errors: {extra['failed']}; impressions counted {extra['counted']} for "
          f"{extra['made']} requests wrk completed with the experiment (wrk leaves out those "
          "in flight at its end)")  # fmt: skip
    print(
        f"load average during rounds: {extra['loads']}; uptime after: {extra['uptime_after']}; "
        f"CPU taken by the virtual machine's host (steal) during rounds: {extra['stolen']}"
    )
    print(f"other busy processes: {extra['busy'] or 'none'}")


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def measure(
    args: argparse.Namespace, env: dict[str, str], port: int, bare_port: int,
    server: subprocess.Popen[bytes],
) -> tuple[list[dict[str, float]], dict[str, str]]:  # fmt: skip
    wrk(port, 2, args.connections)  # warm: templates compiled, connections open
    rounds: list[dict[str, float]] = []
    made, failed, loads, ticks = 0, 0, [], cpu_ticks()
    for _ in range(args.rounds):
        found: dict[str, float] = {"ceiling": wrk(bare_port, args.seconds, args.connections)[0]}
        for state in ("without", "with"):
            manage(env, "shell", "-c", START if state == "with" else STOP)
            _, warm, _ = wrk(port, 1, args.connections)  # workers reload the appeal
            before = cpu_seconds(server)
            rate, total, bad = wrk(port, args.seconds, args.connections)
            found[state] = rate
            found[f"{state}_cpu"] = 1000 * (cpu_seconds(server) - before) / max(total, 1)
            made += warm + total if state == "with" else 0
            failed += bad
            loads.append(os.getloadavg()[0])
        rounds.append(found)
    busy = neighbours()
    manage(env, "shell", "-c", STOP)
    counted = manage(env, "shell", "-c", FOLD).strip().splitlines()[-1]
    extra = {"made": str(made), "failed": str(failed), "counted": counted, "busy": busy,
             "loads": f"{min(loads):.1f}-{max(loads):.1f}",
             "stolen": stolen_since(ticks)}  # fmt: skip
    return rounds, extra


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=5, help="per round and state")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install wrk")

    uptime_before = uptime()
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
        bare = serve(bare_env, bare_port, "hello:app", *conf)
        server = serve(env, port, "newsroom.wsgi:application", *conf)
        try:
            rounds, extra = measure(args, env, port, bare_port, server)
        finally:
            for process in (server, bare):
                process.terminate()
                process.wait(timeout=30)
    report(args, rounds, {**extra, "uptime_before": uptime_before, "uptime_after": uptime()})


if __name__ == "__main__":
    main()
