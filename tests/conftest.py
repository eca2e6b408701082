"""Shared fixtures: the fixture news site served over real HTTP, projects, the real CLI."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from support.cli import SHARED, SITE_A
from support.summary import SUMMARY

sys.path.insert(0, str(SHARED / "tools"))


@pytest.fixture(autouse=True)
def _no_leftover_processes():
    """A daemon or worker a failed test did not stop is killed after the test."""
    yield
    from processes import kill_leftovers

    kill_leftovers()


def _require_shared() -> None:
    if not SITE_A.is_dir():
        pytest.fail(f"fixture site not found at {SITE_A}; CI keeps ../shared beside the checkout")


@pytest.fixture(scope="session")
def truth() -> dict:
    """site-a's ground truth."""
    _require_shared()
    return json.loads((SITE_A / "_truth.json").read_text(encoding="utf-8"))


# -- PostgreSQL: a server from SYNDICATE_TEST_PG_URL (.ci/run starts one), else one the tests
# start from the installed binaries; skipped loudly when neither is possible, failed in CI.
PG_NOT_RUN: list[str] = []


@pytest.fixture(scope="session")
def pg_admin_url():
    """The URL of a PostgreSQL database whose user may create databases."""
    url = os.environ.get("SYNDICATE_TEST_PG_URL")
    if url:
        yield url
        return
    import tempfile

    from pg_server import start, stop

    directory = Path(tempfile.mkdtemp(prefix="syndicate-pg-"))
    try:
        url = start(directory)
    except Exception as exc:  # no binaries, no permission: said loudly below
        stop(directory)
        reason = f"PostgreSQL tests NOT RUN: no server could be started ({exc})"
        if os.environ.get("CI"):
            pytest.fail(reason + "; CI must have one (.ci/run installs and starts it)")
        PG_NOT_RUN.append(reason)
        pytest.skip(reason)
    try:
        yield url
    finally:
        stop(directory)


@pytest.fixture
def pg_url(pg_admin_url):
    """A fresh, empty database on the test server; dropped afterwards."""
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(pg_admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    """The same test on SQLite on disk and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def smtp():
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that records what it receives."""
    from smtp_server import SMTPServer

    server = SMTPServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def site_a():
    """site-a served on a free loopback port, fresh counters per test: (base URL, handle)."""
    _require_shared()
    from serve_site import serve

    base, handle = serve(str(SITE_A))
    try:
        yield base.rstrip("/"), handle
    finally:
        handle.stop()


def pytest_sessionfinish(session) -> None:
    """Under pytest-xdist, a worker hands its tables and its PostgreSQL verdict to the
    controller, which prints them (see pytest_testnodedown)."""
    output = getattr(session.config, "workeroutput", None)
    if output is not None:
        output["summary"] = list(SUMMARY)
        output["pg_not_run"] = list(PG_NOT_RUN)


@pytest.hookimpl(optionalhook=True)  # an xdist hook: unknown when xdist is not loaded
def pytest_testnodedown(node, error) -> None:
    """The controller collects what each worker handed over."""
    output = getattr(node, "workeroutput", {})
    SUMMARY.extend(output.get("summary", []))
    PG_NOT_RUN.extend(x for x in output.get("pg_not_run", []) if x not in PG_NOT_RUN)


def pytest_terminal_summary(terminalreporter) -> None:
    """Print the collected tables (per-field accuracy) at the end of the run."""
    if PG_NOT_RUN:
        terminalreporter.section("POSTGRESQL TESTS NOT RUN", red=True, bold=True)
        terminalreporter.write_line(PG_NOT_RUN[0], red=True, bold=True)
    if SUMMARY:
        terminalreporter.section("extraction accuracy")
        for line in SUMMARY:
            terminalreporter.write_line(line)
