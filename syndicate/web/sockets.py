"""The listening socket `serve` and the daemon hand to uvicorn."""

from __future__ import annotations

import socket

from syndicate.errors import SyndicateError

BACKLOG = 128  # connections that may wait before uvicorn accepts; uvicorn sets its own later


def listen_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to host:port and listening (port 0: any free port).

    It listens at once, before the caller prints its address or starts the app: a client
    that connects at once (a script, a test) waits in the backlog until uvicorn accepts,
    rather than being refused while the app is still starting."""
    sock: socket.socket | None = None
    try:
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(BACKLOG)
    except OSError as exc:
        if sock is not None:
            sock.close()  # a failed bind must not keep the descriptor open
        raise SyndicateError(
            f"cannot listen on {host}:{port} ({exc.strerror or exc})",
            "pick another port with --port, or stop what is using it",
        ) from exc
    return sock
