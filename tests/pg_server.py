"""A throwaway PostgreSQL server for the tests: initdb in a directory, listening on
127.0.0.1 on a free port, trust authentication, stopped and deleted afterwards.

    python tests/pg_server.py start DIR    # prints the admin URL (postgresql+psycopg://…)
    python tests/pg_server.py stop DIR

Used by .ci/run (which installs Debian's postgresql package first) and, when no server is
given in SYNDICATE_TEST_PG_URL, by the tests themselves. PostgreSQL refuses to run as
root, so as root the server runs as the 'postgres' user that Debian's package creates.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

USER = "syndicate"


def binaries() -> Path | None:
    """The directory holding initdb and pg_ctl, if PostgreSQL is installed."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(candidate, "initdb").exists():
            return Path(candidate)
    return None


def _as_server_user(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", "postgres", "--", *cmd]


def start(directory: Path, durable: bool = False) -> str:
    """Start a server with its data in ``directory``; its admin URL. Not ``durable``
    (the tests): no fsync, commits not waited for; ``durable`` (benchmarks): PostgreSQL's
    own defaults, each commit flushed to disk as in production."""
    bin_dir = binaries()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
    directory.mkdir(parents=True, exist_ok=True)
    data = directory / "data"
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    run = {"check": True, "capture_output": True, "text": True}
    subprocess.run(
        _as_server_user([str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", USER,
                         "-E", "UTF8", "--no-sync"]),
        **run,
    )  # fmt: skip
    options = f"-p {port} -c listen_addresses=127.0.0.1 -k {directory} -c max_connections=200"
    if not durable:
        options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    subprocess.run(
        _as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-l",
                         str(directory / "server.log"), "-o", options, "-w", "start"]),
        **run,
    )  # fmt: skip
    return f"postgresql+psycopg://{USER}@127.0.0.1:{port}/postgres"


def stop(directory: Path) -> None:
    """Stop the server in ``directory`` and delete it."""
    bin_dir = binaries()
    data = directory / "data"
    if bin_dir is not None and data.exists():
        subprocess.run(
            _as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            capture_output=True,
        )
    shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    verb, where = sys.argv[1], Path(sys.argv[2])
    if verb == "start":
        print(start(where))
    else:
        stop(where)
