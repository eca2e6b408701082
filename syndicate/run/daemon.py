"""`syndicate run`: APScheduler 3 firing schedules/, and the web app, in one process.

The scheduler is a thin trigger (invariant 1). Its own memory (job store) is not shared
between daemons and not trusted across restarts: every job asks the database what is done.
Jobs run in a thread pool, so a long gather or send never keeps the scheduler from firing
the others; misfire_grace_time is unlimited and coalesce is on, because lateness is decided
by the job (a digest slot is sent late only within its `lateness`), not by APScheduler's
one-second default, which silently drops due jobs whenever the process is busy.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import threading
import time
from datetime import UTC, datetime

from syndicate.errors import ConfigError, SyndicateError
from syndicate.project import Project
from syndicate.project.schedules import Schedule
from syndicate.project.secret import require_secret_key
from syndicate.run.heartbeat import Heartbeat, stop_on_signals
from syndicate.run.jobs import Jobs
from syndicate.run.logs import event, setup
from syndicate.store import open_store, shown_url
from syndicate.web.sockets import listen_socket

RETRY_SWEEP_SECONDS = 30  # deferred messages of any edition are picked up this often


def run_daemon(project: Project, host: str, port: int, log_format: str | None = None) -> int:
    """Run until SIGTERM or Ctrl-C; return the exit status."""
    config = project.config
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.interval import IntervalTrigger

    setup(log_format or config.daemon.log_format)
    require_secret_key(config.project, "the daemon")
    sock = listen_socket(host, port)
    store = open_store(config.store_url)
    stop = threading.Event()
    jobs = Jobs(project, store, stop)  # ConfigError: bad schedules, exit 2 before anything runs
    workers = config.daemon.workers
    scheduler = BackgroundScheduler(
        timezone=UTC,
        executors={"default": ThreadPoolExecutor(max_workers=workers)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
    )
    _schedule_all(scheduler, jobs, first_run=True)
    scheduler.add_job(
        jobs.resume_all,
        IntervalTrigger(seconds=RETRY_SWEEP_SECONDS, timezone=UTC),
        id="_retries",
        name="retry sweep",
    )
    server, web = _start_web(project, sock)
    heartbeat = Heartbeat(store, "daemon").start()

    reload = threading.Event()

    stop_on_signals(stop, "daemon")
    signal.signal(signal.SIGHUP, lambda *_: reload.set())

    scheduler.start()
    address = f"http://{host}:{sock.getsockname()[1]}"
    event(
        "daemon.started",
        pid=os.getpid(),
        web=address,
        schedules=",".join(sorted(jobs.schedules)),
        store=shown_url(config.store_url),
    )
    try:
        while not stop.wait(0.5):
            if reload.is_set():
                reload.clear()
                _reload(scheduler, jobs)
            if not web.is_alive():
                event("web.stopped", logging.ERROR, reason="the web server thread ended")
                stop.set()
    finally:
        stop.set()
        scheduler.shutdown(wait=False)
        server.should_exit = True
        grace = config.daemon.shutdown_grace
        busy = _wait_for_jobs(jobs, grace)
        web.join(timeout=2)
        heartbeat.stop()
        event("daemon.stopped", unfinished_jobs=",".join(busy))
        if busy:
            # A gather cannot be cut short cleanly; what it stored is stored (every story
            # is its own transaction) and the next run goes on from there.
            logging.shutdown()
            os._exit(0)
        store.close()
    return 0


def _start_web(project: Project, sock: socket.socket):
    """uvicorn in a thread of its own (signals stay with the main thread)."""
    import uvicorn

    from syndicate.web.app import create_app

    server = uvicorn.Server(
        uvicorn.Config(create_app(project), log_config=None, access_log=False, lifespan="off")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="web")
    thread.daemon = True
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    if not server.started:
        raise SyndicateError("the web app did not start", "see the log lines above")
    return server, thread


def _schedule_all(scheduler, jobs: Jobs, first_run: bool) -> None:
    """One APScheduler job per schedule with a clock; each also runs once at start, so
    a gather does not wait for its first interval and a missed digest is caught up."""
    now = datetime.now(UTC)
    if first_run:
        jobs.hold_until_gathered()  # before any job below can fire
    clocked = []
    for name, schedule in sorted(jobs.schedules.items()):
        when = schedule.when(jobs.config.site.tz)
        if when is None:
            continue  # a feeds build that follows each gather
        scheduler.add_job(
            jobs.run,
            when.trigger(),
            args=[name],
            id=name,
            name=f"{schedule.kind} {name}",
            replace_existing=True,
        )
        clocked.append(name)
        event("schedule.added", schedule=name, kind=schedule.kind, when=_describe(schedule))
    if first_run and clocked:
        # A job of its own: a first run time on the jobs above would shift every later
        # firing of an interval off its epoch-aligned slots. One job, gathers first, and
        # digests held until they are done: a digest made at start-up carries what the
        # start-up gather found instead of firing beside it on a store still empty.
        scheduler.add_job(
            jobs.start_up, "date", run_date=now, args=[clocked], id="@start", name="start"
        )


def _reload(scheduler, jobs: Jobs) -> None:
    """SIGHUP: schedules/ read again; feeds/ is read at each build anyway."""
    try:
        schedules = jobs.reload()
    except ConfigError as exc:
        event("reload.failed", logging.ERROR, error=str(exc), kept="the schedules in use")
        return
    for job in scheduler.get_jobs():
        if job.id != "_retries" and job.id not in schedules:
            job.remove()
            event("schedule.removed", schedule=job.id)
    _schedule_all(scheduler, jobs, first_run=False)
    event("reload.done", schedules=",".join(sorted(schedules)))


def _describe(schedule: Schedule) -> str:
    if schedule.cron:
        return f"cron {schedule.cron} {schedule.timezone or 'site timezone'}"
    return f"every {schedule.every}" if schedule.every else "after each gather"


def _wait_for_jobs(jobs: Jobs, grace: float) -> list[str]:
    """Wait up to ``grace`` seconds for running jobs to end; the ones still running."""
    deadline = time.monotonic() + grace
    while (busy := jobs.running) and time.monotonic() < deadline:
        time.sleep(0.05)
    return busy


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use `syndicate run`")
