"""Benchmark delivery: one edition to 10,000 subscribers over SMTP, next to a smtplib baseline.

Run it from the repository root (syndicate installed, e.g. ``pip install -e .``)::

    python bench/deliver.py                         # 10,000 subscribers, pool 4, sweep 1/2/4
    python bench/deliver.py --pool 2 --sweep ""     # one pool size, no sweep
    python bench/deliver.py --subscribers 2000 --sweep-messages 1000

What it does:

1. starts an SMTP sink in a process of its own on 127.0.0.1: asyncio, a bare protocol that
   speaks just enough SMTP (220, EHLO with PIPELINING/8BITMIME/SIZE, MAIL, RCPT, DATA up to
   CRLF.CRLF, RSET, NOOP, QUIT) and counts messages, bytes and distinct recipients, so the
   server is not what is measured (aiosmtpd tops out near 270 messages/s with 78 KB ones);
2. writes a project with ``syndicate init``, stores 12 stories made by bench/digest.py's
   generator (60-word ledes, no ALSO READ lists: an ~88 KB message; ``--lede-words 150
   --also-read 3`` gives bench/digest.py's busier 114 KB), saves N active subscribers of
   "daily" one by one with ``save_subscriber``, makes the edition with
   ``digest.make.create_edition`` and its ledger rows with ``store.add_deliveries``;
3. **ours**: the real sender, ``deliver.send.deliver_edition``, over an ``SMTPTransport``
   (``smtp://127.0.0.1:PORT?pool=P``): claims, compose per subscriber, SMTP, ``mark_sent``
   per message; checks the sink got exactly N messages to N distinct recipients;
4. **baseline**: the same prebuilt message bytes (one composed message) pushed with smtplib
   over P connections from P threads, N times, into the same sink;
5. prints messages/s, MB/s (10^6 bytes on the wire), the CPU the client and the sink used,
   and the ratio (target >= 0.7);
6. a sweep over pool sizes 1, 2 and 4 on a share of the ledger, with the time (wall and
   the threads' own CPU) split between compose, ledger (claim, mark_sent) and SMTP;
7. each stage alone on one thread: compose, mark_sent (a transaction each, as sending
   does), and for reference the same rows marked 100 to a transaction (what batching the
   marks would save, at the price of invariant 3).

The client is one Python process: past one connection it is bound by the GIL, so what
counts is the CPU each message costs (printed as ms/msg next to the baseline's).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import itertools
import multiprocessing
import os
import random
import shutil
import smtplib
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

from sqlalchemy import bindparam, update

from syndicate.deliver.send import RetryPolicy, deliver_edition
from syndicate.deliver.smtp import SMTPTransport
from syndicate.digest.make import create_edition
from syndicate.models import CrossLink, Image, Story, Subscriber
from syndicate.project.schedules import digest_schedule
from syndicate.project.settings import load_config
from syndicate.store import open_store
from syndicate.store import schema as s

sys.path.insert(0, str(Path(__file__).resolve().parent))
from digest import BASE, NAMES, NOW, _words  # noqa: E402  (bench/digest.py's generator)

TARGET = 0.7


def fill(project: Path, seed: int, lede_words: int, also_read: int) -> None:
    """Store 12 generated stories (bench/digest.py's, with ledes and ALSO READ lists sized
    so the message is ~88 KB; 150 words and 3 links make bench/digest.py's 114 KB)."""
    rng = random.Random(seed)
    store = open_store(load_config(project).store_url)
    for i in range(12):
        section = ["world", "business", "sport", "culture"][i % 4]
        store.save_story(
            Story(
                url=f"{BASE}/2024/{section}/story-{i:02d}/",
                title=_words(rng, 10).capitalize(),
                published=NOW - timedelta(hours=i + 1),
                author="A. Reporter",
                section=section,
                section_name=section.title(),
                image=Image(f"{BASE}/img/{i:02d}.jpg", _words(rng, 8).capitalize()),
                summary=_words(rng, lede_words).capitalize() + ".",
                body_text=["Body."],
                body_html="<p>Body.</p>",
                also_read=[
                    CrossLink(_words(rng, 9).capitalize(), f"{BASE}/2023/{section}/old-{i}-{j}/")
                    for j in range(also_read)
                ],
                first_seen=NOW - timedelta(hours=i + 1),
            )
        )
    store.close()


# -- the sink (its own process) -------------------------------------------------------------
class _Stats:
    def __init__(self) -> None:
        self.messages = 0
        self.bytes = 0
        self.recipients: set[bytes] = set()


class _Sink(asyncio.Protocol):
    """Just enough SMTP; every message is accepted and counted, nothing is kept. With
    ``delay`` seconds, each message's 250 comes that much later, as from a real server that
    writes the message to its queue on disk before it answers, or one further away; the
    answers keep their order."""

    def __init__(self, stats: _Stats, delay: float = 0.0) -> None:
        self.stats = stats
        self.delay = delay
        self.buf = bytearray()
        self.in_data = False
        self.scan = 0
        self.rcpts: list[bytes] = []
        self.waiting: collections.deque[tuple[float, bytes]] = collections.deque()

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.loop = asyncio.get_running_loop()
        transport.write(b"220 sink ESMTP ready\r\n")

    def _send(self, data: bytes, delayed: bool = False) -> None:
        if not data:
            return
        if not (self.delay and delayed) and not self.waiting:
            self.transport.write(data)
            return
        at = self.loop.time() + (self.delay if delayed else 0.0)
        if self.waiting:
            at = max(at, self.waiting[-1][0])
        self.waiting.append((at, data))
        if len(self.waiting) == 1:
            self.loop.call_at(at, self._flush)

    def _flush(self) -> None:
        now = self.loop.time()
        while self.waiting and self.waiting[0][0] <= now:
            if not self.transport.is_closing():
                self.transport.write(self.waiting[0][1])
            self.waiting.popleft()
        if self.waiting:
            self.loop.call_at(self.waiting[0][0], self._flush)

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        out = []
        while True:
            if self.in_data:
                if buf[:3] == b".\r\n":  # an empty message
                    end, cut = -2, 3
                else:
                    end = buf.find(b"\r\n.\r\n", self.scan)
                    cut = end + 5
                if end == -1:
                    self.scan = max(0, len(buf) - 4)
                    break
                self.stats.messages += 1
                self.stats.bytes += end + 2
                self.stats.recipients.update(self.rcpts)
                del buf[:cut]
                self.in_data, self.scan, self.rcpts = False, 0, []
                self._send(b"".join(out))
                out = []
                self._send(b"250 2.0.0 Ok: queued\r\n", delayed=True)
                continue
            nl = buf.find(b"\n")
            if nl == -1:
                break
            line = bytes(buf[:nl]).rstrip(b"\r")
            del buf[: nl + 1]
            out.append(self._command(line))
            if self.transport.is_closing():
                return
        self._send(b"".join(out))

    def _command(self, line: bytes) -> bytes:
        verb = line[:4].upper()
        if verb == b"EHLO":
            return b"250-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 104857600\r\n"
        if verb == b"HELO":
            return b"250 sink\r\n"
        if verb == b"MAIL":
            self.rcpts = []
            return b"250 2.1.0 Ok\r\n"
        if verb == b"RCPT":
            addr = line.partition(b":")[2].strip().split(b" ")[0].strip(b"<>").lower()
            self.rcpts.append(addr)
            return b"250 2.1.5 Ok\r\n"
        if verb == b"DATA":
            if not self.rcpts:
                return b"503 5.5.1 No valid recipients\r\n"
            self.in_data = True
            return b"354 End data with <CR><LF>.<CR><LF>\r\n"
        if verb in (b"RSET", b"NOOP"):
            self.rcpts = [] if verb == b"RSET" else self.rcpts
            return b"250 2.0.0 Ok\r\n"
        if verb == b"QUIT":
            if self.waiting:  # answers still due: let them go first
                self._send(b"221 2.0.0 Bye\r\n")
                self.loop.call_at(self.waiting[-1][0] + 0.001, self.transport.close)
                return b""
            self.transport.write(b"221 2.0.0 Bye\r\n")
            self.transport.close()
            return b""
        if verb == b"XSTA":  # XSTAT: the counts, and the sink's own CPU time
            st = self.stats
            cpu = time.process_time()
            return f"250 {st.messages} {st.bytes} {len(st.recipients)} {cpu:.3f}\r\n".encode()
        if verb == b"XRES":  # XRESET: start counting again
            self.stats.__init__()
            return b"250 2.0.0 Ok\r\n"
        return b"502 5.5.2 Command not recognized\r\n"


def _serve_sink(pipe, delay: float = 0.0) -> None:
    async def main() -> None:
        stats = _Stats()
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: _Sink(stats, delay), "127.0.0.1", 0, backlog=128)
        pipe.send(server.sockets[0].getsockname()[1])
        async with server:
            await server.serve_forever()

    asyncio.run(main())


class SinkProcess:
    """The sink in a process of its own; ``stats()`` and ``reset()`` over SMTP."""

    def __init__(self, delay: float = 0.0) -> None:
        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe()
        self.process = ctx.Process(target=_serve_sink, args=(child, delay), daemon=True)
        self.process.start()
        self.port = parent.recv()

    def _cmd(self, verb: str) -> str:
        with smtplib.SMTP("127.0.0.1", self.port, timeout=10) as smtp:
            code, text = smtp.docmd(verb)
            assert code == 250, (code, text)
            return text.decode()

    def reset(self) -> None:
        self._cmd("XRESET")

    def stats(self) -> tuple[int, int, int, float]:
        """(messages, bytes, distinct recipients, sink CPU seconds so far)."""
        m, b, r, cpu = self._cmd("XSTAT").split()
        return int(m), int(b), int(r), float(cpu)

    def stop(self) -> None:
        self.process.terminate()
        self.process.join(5)


# -- measuring ------------------------------------------------------------------------------
class Run:
    """One timed phase: wall time, our CPU time, the sink's counts and CPU time."""

    def __init__(self, sink: SinkProcess) -> None:
        self.sink = sink

    def __enter__(self) -> Run:
        self.sink.reset()
        self.cpu0 = self.sink.stats()[3]
        self.p0 = time.process_time()
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.wall = time.perf_counter() - self.t0
        self.cpu = time.process_time() - self.p0
        self.messages, self.bytes, self.recipients, sink_cpu = self.sink.stats()
        self.sink_cpu = sink_cpu - self.cpu0

    @property
    def rate(self) -> float:
        return self.messages / self.wall

    def line(self, label: str) -> str:
        return (
            f"{label:<34} {self.messages:>6,} msgs in {self.wall:6.2f}s = {self.rate:7,.0f} "
            f"msgs/s, {self.bytes / self.wall / 1e6:6.1f} MB/s   (CPU: client "
            f"{self.cpu / self.wall:4.0%}, sink {self.sink_cpu / self.wall:4.0%} of a core)"
        )


class Timer:
    """Time spent in named stages, summed over threads: wall (which includes waiting for
    the GIL, the database lock, the server) and the thread's own CPU."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)
        self.lock = threading.Lock()

    def timed(self, name: str, fn):
        def wrapper(*args, **kwargs):
            t0, c0 = time.perf_counter(), time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                dt, dc = time.perf_counter() - t0, time.thread_time() - c0
                with self.lock:
                    self.seconds[name] += dt
                    self.cpu[name] += dc

        return wrapper


class _Proxy:
    """An object with some methods timed and the rest passed through."""

    def __init__(self, inner, timer: Timer, names: dict[str, str]) -> None:
        self._inner = inner
        for attr, label in names.items():
            setattr(self, attr, timer.timed(label, getattr(inner, attr)))

    def __getattr__(self, name):
        return getattr(self._inner, name)


class TimedTransport:
    def __init__(self, inner: SMTPTransport, timer: Timer) -> None:
        self.inner, self.timer = inner, timer
        self.pool, self.rate = inner.pool, inner.rate

    def connect(self):
        return _Proxy(self.inner.connect(), self.timer, {"send": "smtp send"})

    def describe(self) -> str:
        return self.inner.describe()


def reset_ledger(store, edition_id: int, limit: int | None = None) -> None:
    """Rows back to pending (the first ``limit`` of them; the rest stay sent)."""
    d = s.deliveries
    with store.engine.begin() as conn:
        ids = [r[0] for r in conn.execute(
            d.select().with_only_columns(d.c.id).where(d.c.edition_id == edition_id)
            .order_by(d.c.id)
        )]  # fmt: skip
        chosen = ids if limit is None else ids[:limit]
        conn.execute(
            update(d).where(d.c.edition_id == edition_id).values(status="sent", claimed_by=None)
        )
        for i in range(0, len(chosen), 500):
            conn.execute(
                update(d)
                .where(d.c.id.in_(chosen[i : i + 500]))
                .values(status="pending", attempts=0, message_id=None, sent_at=None,
                        error=None, claimed_by=None, claimed_until=None)
            )  # fmt: skip


def ours(store, edition_id, message, port, pool, timer: Timer | None = None):
    transport = SMTPTransport(f"smtp://127.0.0.1:{port}?pool={pool}&timeout=30")
    if timer is not None:
        transport = TimedTransport(transport, timer)
        store = _Proxy(store, timer, {"claim": "ledger claim", "mark_sent": "ledger mark_sent",
                                      "suppressed": "ledger suppressed"})  # fmt: skip
        message = _Proxy(message, timer, {"compose": "compose"})
    report = deliver_edition(store, edition_id, message, transport, RetryPolicy(wait=5))
    return report


def baseline(port: int, pool: int, sender: str, raw: bytes, n: int) -> None:
    """The prebuilt bytes, n times, over ``pool`` smtplib connections from as many threads."""
    counter = itertools.count()
    errors: list[BaseException] = []

    def work() -> None:
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
                smtp.ehlo()
                while (i := next(counter)) < n:
                    smtp.sendmail(sender, [f"reader{i}@example.org"], raw)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(pool)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def single_stages(store, edition_id: int, message, people: list[Subscriber], n: int) -> None:
    """Each stage alone, one thread: compose; mark_sent one transaction each; the same rows
    marked in one transaction (what batching the marks would cost)."""
    some = people[:n]
    t0 = time.perf_counter()
    for sub in some:
        message.compose(sub)
    compose = (time.perf_counter() - t0) / n
    reset_ledger(store, edition_id, n)
    d = s.deliveries
    with store.engine.connect() as conn:
        ids = [r[0] for r in conn.execute(
            d.select().with_only_columns(d.c.id)
            .where(d.c.edition_id == edition_id, d.c.status == "pending").order_by(d.c.id)
        )]  # fmt: skip
    t0 = time.perf_counter()
    for i in ids:
        store.mark_sent(i, "<x@bench>", NOW)
    marks = (time.perf_counter() - t0) / len(ids)
    reset_ledger(store, edition_id, n)
    t0 = time.perf_counter()
    for i in range(0, len(ids), 100):  # one transaction per 100 rows, executemany
        with store.engine.begin() as conn:
            conn.execute(
                update(d)
                .where(d.c.id == bindparam("row"))
                .values(status="sent", message_id=bindparam("mid"), sent_at=NOW,
                        attempts=d.c.attempts + 1, claimed_by=None, claimed_until=None),
                [{"row": r, "mid": "<x@bench>"} for r in ids[i : i + 100]],
            )  # fmt: skip
    batched = (time.perf_counter() - t0) / len(ids)
    t0 = time.perf_counter()
    for _ in range(n // 100):
        store.claim(edition_id, "bench:0", 100, NOW, RetryPolicy().lease)
    claim = (time.perf_counter() - t0) / max(1, n // 100) / 100
    print(f"  one thread, each stage alone ({n:,} messages):")
    print(f"    compose                          {compose * 1e3:6.3f} ms/msg "
          f"({1 / compose:7,.0f}/s)")  # fmt: skip
    print(f"    mark_sent, a transaction each    {marks * 1e3:6.3f} ms/msg "
          f"({1 / marks:7,.0f}/s)")  # fmt: skip
    print(f"    the same, 100 rows a transaction {batched * 1e3:6.3f} ms/msg "
          f"({1 / batched:7,.0f}/s)")  # fmt: skip
    print(f"    claim (batches of 100), per row  {claim * 1e3:6.3f} ms/msg")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--pool", type=int, default=4, help="connections (SMTPTransport's default)")
    parser.add_argument("--sweep", default="1,2,4", help="pool sizes to time too ('' for none)")
    parser.add_argument("--sweep-messages", type=int, default=3000)
    parser.add_argument("--lede-words", type=int, default=60)
    parser.add_argument("--also-read", type=int, default=0, help="ALSO READ links a story")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    n = args.subscribers
    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="syndicate-bench-deliver-"))
    sink = SinkProcess()
    try:
        project = tmp / "proj"
        subprocess.run(
            [sys.executable, "-m", "syndicate", "init", str(project), "--site-url",
             f"{BASE}/", "--name", "Harbour News"],
            check=True, capture_output=True,
        )  # fmt: skip
        cfg = project / "syndicate.toml"
        cfg.write_text(cfg.read_text().replace('public_url = ""', f'public_url = "{BASE}"'))
        (project / ".secret-key").write_text("bench-key\n")
        fill(project, args.seed, args.lede_words, args.also_read)
        config = load_config(project)
        store = open_store(config.store_url)

        t0 = time.perf_counter()
        people = [Subscriber(f"reader{i}@example.org", f"{NAMES[i % 10]} Reader{i}", "active",
                             ["daily"]) for i in range(n)]  # fmt: skip
        for sub in people:
            store.save_subscriber(sub)
        t1 = time.perf_counter()
        made, created = create_edition(config, store, digest_schedule(project, "daily"), NOW, NOW)
        assert made is not None and created
        rows = store.add_deliveries(made.edition.id, store.subscribers("daily", "active"))
        t2 = time.perf_counter()
        raw = made.message.compose(people[0])
        sender = made.message.sender.from_addr.rpartition("<")[2].rstrip(">")
        print(f"setup: {n:,} subscribers saved in {t1 - t0:.1f}s; edition of "
              f"{len(made.edition.stories)} stories, {rows:,} ledger rows in {t2 - t1:.1f}s; "
              f"message {len(raw) / 1024:.1f} KB; sink on 127.0.0.1:{sink.port}; "
              f"{os.cpu_count()} CPUs")  # fmt: skip

        # Ours, then the baseline, at the pool size asked for.
        with Run(sink) as mine:
            report = ours(store, made.edition.id, made.message, sink.port, args.pool)
        with Run(sink) as base:
            baseline(sink.port, args.pool, sender, raw, n)
        print(mine.line(f"ours (deliver_edition, pool {args.pool})"))
        print(base.line(f"baseline (smtplib, {args.pool} connections)"))
        ratio = mine.rate / base.rate
        print(f"  {report.summary()}")
        ok = mine.messages == n and mine.recipients == n and report.sent == n
        print(f"  sink received {mine.messages:,} messages to {mine.recipients:,} distinct "
              f"recipients: {'exactly N, OK' if ok else f'EXPECTED {n:,}'}")  # fmt: skip

        # The sweep: pool sizes, with the time split between the stages.
        sizes = [int(x) for x in args.sweep.split(",") if x.strip()]
        m = min(args.sweep_messages, n)
        if sizes:
            print(f"pool sizes ({m:,} messages each; stage times are summed over threads):")
        for pool in sizes:
            reset_ledger(store, made.edition.id, m)
            timer = Timer()
            with Run(sink) as r:
                ours(store, made.edition.id, made.message, sink.port, pool, timer)
            with Run(sink) as b:
                baseline(sink.port, pool, sender, raw, m)
            split = ", ".join(
                f"{name} {secs / r.messages * 1e3:.2f}/{timer.cpu[name] / r.messages * 1e3:.2f}"
                for name, secs in sorted(timer.seconds.items(), key=lambda kv: -kv[1])
            )
            print(f"  pool {pool}: ours {r.rate:6,.0f}/s  baseline {b.rate:6,.0f}/s  "
                  f"ratio {r.rate / b.rate:4.2f}; client CPU {r.cpu / r.wall:4.0%} of a core, "
                  f"{r.cpu / r.messages * 1e3:.2f} ms/msg (baseline "
                  f"{b.cpu / b.messages * 1e3:.2f})")  # fmt: skip
            print(f"    ms/msg wall/CPU: {split}")
        if sizes:
            single_stages(store, made.edition.id, made.message, people, min(2000, n))
        store.close()

        met = "met" if ratio >= TARGET else "NOT met"
        print(f"ratio ours/baseline = {ratio:.2f}   (target >= {TARGET}: {met})   "
              f"[whole run {time.perf_counter() - started:.0f}s]")  # fmt: skip
        return 0 if ok else 1
    finally:
        sink.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
