"""Benchmark the Friday send: N subscribers, Celery workers on PostgreSQL + Redis, one beat,
postfix's smtp-sink on loopback; against a bare smtplib loop to the same sink, run several
times around each send. Prints figures; asserts nothing.

    scripts/get-smtp-sink.sh        # once: smtp-sink out of Debian's postfix package, no install
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/newsroom REDIS_URL=redis://127.0.0.1:6379/5 \
        python bench/newsletter_send.py                          # 10k and 100k subscribers
    python bench/newsletter_send.py --subscribers 1000000        # a full send of 1M
    python bench/newsletter_send.py --kill-worker-at 0.5         # SIGKILL a worker half-way
    python bench/newsletter_send.py --smtp 127.0.0.1:2525        # any SMTP server
    python bench/newsletter_send.py --provider-standin mailgun   # batches through a provider
    python bench/newsletter_send.py --email-url 'mailgun://key@?api_url=http://...'
    python bench/newsletter_send.py --subscribers 10000 --dkim   # unsigned vs RSA vs RSA+Ed25519

It creates its own database (`<DATABASE_URL name>_bench`, dropped at the end) and purges
REDIS_URL's database (use one that is yours). Per N it prints the sink's own ceiling (measured
first with postfix's C `smtp-source`), the pipeline's rate from "Send now" to `sent` (delivery
rows, claims, marks included), the bare loop's min / median / max and the ratio, the messages
the sink counted (so duplicates show), peak RSS per worker process and the load average.
With `--dkim` each N is sent unsigned, DKIM-signed with RSA 2048 and with RSA + Ed25519 (keys
made in a temporary folder; one message per mode verified with dkimpy first), `--rounds` times
interleaved, and it prints each mode's min / median / max and its ratio to the unsigned send.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.sendkit import data  # noqa: E402
from bench.sendkit.cluster import Beat, CPUWatcher, RSSWatcher, Worker  # noqa: E402
from bench.sendkit.dkim import (  # noqa: E402
    SigningRates,
    check_signatures,
    environment_for,
    signing_modes,
)
from bench.sendkit.sink import BareRuns, Sink, bare_rate, sink_ceiling, start_sink  # noqa: E402


def environment(database_url: str, redis_url: str, email_url: str, extra: list[str]) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "newsroom.settings",
        "DEBUG": "false",
        "SECRET_KEY": "bench-secret-key-not-for-production-0123456789",
        "SITE_URL": "https://news.example.org",
        "ALLOWED_HOSTS": "news.example.org",
        "STRIPE_SECRET_KEY": "sk_test_bench",
        "STRIPE_WEBHOOK_SECRET": "whsec_bench",
        "DEFAULT_FROM_EMAIL": "news@news.example.org",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "EMAIL_URL": email_url,
        "EMAIL_TIMEOUT": "30",
        "LOG_LEVEL": "WARNING",
    }
    env.update(tuple(item.split("=", 1)) for item in extra)  # type: ignore[misc]
    return env


class Progress:
    """Messages out so far: the sink's own counter, a stand-in's, or the ledger's."""

    def __init__(self, sink: Sink | None, standin: Any, issue_id: int) -> None:
        self.sink, self.standin, self.issue_id = sink, standin, issue_id
        self.base = self._raw()

    def _raw(self) -> int:
        if self.standin is not None:
            return int(self.standin.stats()["recipients"])
        if self.sink is not None and (count := self.sink.count()) is not None:
            return count
        from newsletter.models import Delivery

        return Delivery.objects.filter(issue_id=self.issue_id, status="sent").count()

    def sent(self) -> int:
        return self._raw() - self.base


class SendRun:
    """One send of N subscribers: the processes, the watchers, the kill, the figures."""

    def __init__(self, count: int, env: dict[str, str], args: Any, sink: Sink | None,
                 standin: Any) -> None:  # fmt: skip
        self.count, self.args, self.sink, self.standin = count, args, sink, standin
        data.fill_subscribers(count)
        self.workers = [Worker(env, n) for n in range(args.workers)]
        for worker in self.workers:
            worker.wait_ready()
        self.beat = Beat(env)
        self.memory = RSSWatcher(self.workers)
        sink_pid = sink.process.pid if sink is not None and sink.kind == "smtp-sink" else None
        self.cpu = CPUWatcher(self.workers, sink_pid)
        self.issue = data.make_issue(f"Bench {count}")
        self.progress = Progress(sink, standin, self.issue.pk)
        self.calls_before = standin.stats()["calls"] if standin is not None else 0
        self.killed_at: Any = None
        self.kill_clock = self.elapsed = 0.0

    def run(self) -> str:
        from newsletter.services.issues import issue_send_now

        self.cpu.sample()
        profiler = profile(self.workers[0], self.count, self.args.profile)
        try:
            self.started = time.perf_counter()
            issue_send_now(issue=self.issue)
            self._watch()
            self.elapsed = time.perf_counter() - self.started
            self.cpu.sample()
        finally:
            if profiler is not None:
                profiler.send_signal(signal.SIGINT)
                profiler.wait(timeout=60)
            for worker in self.workers:
                worker.stop()
            self.beat.stop()
        return self.figures()

    def _watch(self) -> None:
        from newsletter.models import Issue

        deadline = time.monotonic() + max(900.0, self.count / 20)
        sending = Issue.objects.filter(pk=self.issue.pk, status=Issue.Status.SENDING)
        ticks = 0
        while sending.exists():
            self.memory.sample()
            ticks += 1
            if ticks % 10 == 0:
                self.cpu.sample()
            self._kill_when_due()
            if time.monotonic() > deadline:
                print("  warning: the send did not finish in time", flush=True)
                return
            time.sleep(0.1)

    def _kill_when_due(self) -> None:
        from django.utils import timezone

        share = self.args.kill_worker_at
        if not share or self.killed_at is not None:
            return
        if (sent := self.progress.sent()) >= share * self.count:
            self.workers[0].kill()
            self.killed_at, self.kill_clock = timezone.now(), time.perf_counter()
            print(f"  killed worker 0 (SIGKILL) with {sent:,} of {self.count:,} sent",
                  flush=True)  # fmt: skip

    def figures(self) -> str:
        count, elapsed = self.count, self.elapsed
        outcome = data.send_outcome(self.issue.pk, since=self.killed_at)
        sent, failed, queued = outcome["sent"], outcome["failed"], outcome["queued"]
        lines = [f"{count / elapsed:,.0f} messages/s ({count:,} in {elapsed:.1f} s); sent "
                 f"{sent:,}, failed {failed:,}, queued {queued:,}"]  # fmt: skip
        received = self.progress.sent()
        if self.standin is not None:
            calls = self.standin.stats()["calls"] - self.calls_before
            lines.append(f"provider stand-in: {calls:,} calls, {received:,} recipients, "
                         f"{received / elapsed:,.0f} recipients/s")  # fmt: skip
        elif self.sink is not None and self.sink.count() is not None:
            lines.append(f"the sink received {received:,} messages "
                         f"({received - sent:+,} against the ledger's sent rows)")  # fmt: skip
        if self.killed_at is not None and outcome["last"] is not None:
            after = (outcome["last"] - self.killed_at).total_seconds()
            lines.append(f"after the kill: {outcome['after']:,} sent in {after:.1f} s (kill at "
                         f"{self.kill_clock - self.started:.1f} s into the send)")  # fmt: skip
        lines.append(self.cpu.summary(count))
        lines.append(f"peak RSS per worker process: {self.memory.summary()}")
        return "; ".join(lines)


def profile(worker: Worker, count: int, kind: str | None) -> subprocess.Popen[bytes] | None:
    """py-spy, sampling worker 0's pool process: wall (idle threads too: waits count) or cpu
    (samples holding the GIL only)."""
    if kind is None:
        return None
    out = ROOT / "var" / "bench" / f"profile-{kind}-{count}.txt"
    idle = ["--idle"] if kind == "wall" else ["--gil"]
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "py-spy"), "record", "--format", "raw", *idle,
         "--threads", "--rate", "200", "--pid", str(worker.pool_pids()[0]), "--output", str(out)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def sink_url(sink: Sink | None) -> str:
    assert sink is not None
    return f"smtp://{sink.host}:{sink.port}"


def bare_loops(bare: BareRuns, sink: Sink | None, payload: bytes, args: Any) -> None:
    """The bare loop, several times: it swings from run to run on a shared machine."""
    if sink is not None:
        bare.rates += [bare_rate(sink, payload, args.bare_messages) for _ in range(args.bare_runs)]


def dkim_comparison(count: int, env: dict[str, str], args: Any, sink: Sink | None,
                    payload: bytes, modes: dict[str, dict[str, str]]) -> list[float]:  # fmt: skip
    """`--dkim`: the same send in each signing mode, `--rounds` times interleaved, with the
    bare loop before each send and once more at the end. Returns every send's rate."""
    bare, signing = BareRuns(), SigningRates()
    for round_number in range(1, args.rounds + 1):
        for mode, settings in modes.items():
            bare_loops(bare, sink, payload, args)
            load_before = os.getloadavg()[0]
            run = SendRun(count, environment_for(env, settings), args, sink, None)
            result = run.run()
            signing.add(mode, count / run.elapsed)
            load = "/".join(f"{value:.1f}" for value in os.getloadavg())
            print(f"{count:>9,} subscribers, {mode}, round {round_number}: {result}; load "
                  f"average {load_before:.1f} before, {load} after", flush=True)  # fmt: skip
    bare_loops(bare, sink, payload, args)
    print(f"{'':>11}bare smtplib loop ({len(bare.rates)} runs around them): {bare.summary()}")
    for line in signing.lines(bare):
        print(f"{'':>3}{line}", flush=True)
    return [rate for rates in signing.rates.values() for rate in rates]


def plain_sends(args: Any, env: dict[str, str], sink: Sink | None, standin: Any, payload: bytes,
                ceiling: float) -> None:  # fmt: skip
    """Each N sent once, with the bare loop before and after it."""
    for count in args.subscribers:
        bare = BareRuns()
        bare_loops(bare, sink, payload, args)
        load_before = os.getloadavg()[0]
        result = SendRun(count, env, args, sink, standin).run()
        rate = float(result.split(" messages/s", 1)[0].replace(",", ""))
        bare_loops(bare, sink, payload, args)
        load = "/".join(f"{value:.1f}" for value in os.getloadavg())
        print(f"{count:>9,} subscribers: {result}; load average {load_before:.1f} before, "
              f"{load} after", flush=True)  # fmt: skip
        if sink is not None:
            print(f"{'':>23}bare smtplib loop ({len(bare.rates)} runs around it): "
                  f"{bare.summary()}; ratio {bare.ratios(rate)}", flush=True)  # fmt: skip
            if sink.kind == "smtp-sink" and rate > 0.7 * ceiling:
                print(f"{'':>23}warning: the pipeline is within 30% of the sink's ceiling: "
                      "the figure may measure the sink", flush=True)  # fmt: skip


def signing_comparison(args: Any, env: dict[str, str], sink: Sink | None, payload: bytes,
                       ceiling: float) -> None:  # fmt: skip
    """`--dkim`: keys made into a temporary folder, one message per mode verified, then each
    N sent in every mode."""
    if sink is None:
        sys.exit("--dkim signs SMTP mail: it needs the sink, not --email-url")
    with tempfile.TemporaryDirectory(prefix="bench-dkim-") as folder:
        modes = signing_modes(Path(folder), "news.example.org")
        print(check_signatures(modes), flush=True)
        for count in args.subscribers:
            rates = dkim_comparison(count, env, args, sink, payload, modes)
            if sink.kind == "smtp-sink" and max(rates) > 0.7 * ceiling:
                print("   warning: a send came within 30% of the sink's ceiling: the figure "
                      "may measure the sink", flush=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--subscribers", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--smtp", metavar="HOST:PORT", help="an SMTP sink already running")
    parser.add_argument("--email-url", help="send through this EMAIL_URL instead of the sink")
    parser.add_argument("--provider-standin", choices=["mailgun"], help="start a local "
                        "stand-in of this provider's API and send through it")  # fmt: skip
    parser.add_argument("--standin-delay-ms", type=float, default=30.0)
    parser.add_argument("--kill-worker-at", type=float, metavar="FRACTION")
    parser.add_argument("--bare-messages", type=int, default=5_000)
    parser.add_argument("--bare-runs", type=int, default=3, help="before and after each send")
    parser.add_argument("--profile", choices=["wall", "cpu"], help="py-spy worker 0 during "
                        "each send (pip install py-spy): all samples, or on-CPU ones")  # fmt: skip
    parser.add_argument("--ledger-rows", type=int, default=0, help="also time the ledger alone")
    parser.add_argument("--dkim", action="store_true", help="send each N unsigned, "
                        "RSA-signed and RSA+Ed25519-signed, and compare")  # fmt: skip
    parser.add_argument("--rounds", type=int, default=3, help="--dkim: interleaved rounds")
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                        help="extra settings, e.g. NEWSLETTER_SMTP_CONNECTIONS=4")  # fmt: skip
    args = parser.parse_args()

    database_url, admin_url, name = data.bench_database_url(os.environ.get("DATABASE_URL", ""))
    redis_url = os.environ.get("REDIS_URL") or sys.exit("REDIS_URL must be set")
    sink = start_sink(args.smtp) if not (args.email_url or args.provider_standin) else None
    standin = None
    if args.provider_standin:
        from tests.provider_standin import ProviderStandin

        standin = ProviderStandin(args.provider_standin, delay=args.standin_delay_ms / 1000)
        standin.start_process()
    email_url = args.email_url or (standin.email_url if standin else sink_url(sink))
    env = environment(database_url, redis_url, email_url, args.env)
    os.environ.update(env)
    data.recreate_database(admin_url, name)
    try:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True
        )
        import django

        django.setup()
        from newsroom.celery_app import app

        with app.connection_for_write() as conn:
            app.control.purge(connection=conn)
        if args.ledger_rows:
            from bench.sendkit.ledger import ledger_timings

            ledger_timings(args.ledger_rows)
        payload = data.one_message_bytes()
        print(f"message size: {len(payload):,} bytes; workers: {args.workers}; "
              f"{os.cpu_count()} cores", flush=True)  # fmt: skip
        ceiling = 0.0  # none measured for --email-url
        if standin is not None:
            from bench.sendkit.provider import standin_ceiling

            ceiling = standin_ceiling(standin)
            print(f"provider stand-in ({args.provider_standin}, answering after "
                  f"{args.standin_delay_ms:.0f} ms): its ceiling {ceiling:,.0f} recipients/s "
                  "(8 raw HTTP connections, 500 recipients a call)", flush=True)  # fmt: skip
        if sink is not None:
            ceiling, how = sink_ceiling(sink, payload)
            print(f"sink: {sink.kind} at {sink.host}:{sink.port}; its ceiling {ceiling:,.0f} "
                  f"messages/s ({how})", flush=True)  # fmt: skip
        if args.dkim:
            signing_comparison(args, env, sink, payload, ceiling)
        else:
            plain_sends(args, env, sink, standin, payload, ceiling)
    finally:
        from django.db import connections

        connections.close_all()
        data.recreate_database(admin_url, name, drop_only=True)
        if sink is not None:
            sink.stop()
        if standin is not None:
            standin.stop()


if __name__ == "__main__":
    main()
