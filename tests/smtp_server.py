"""A real SMTP server for the tests (aiosmtpd on 127.0.0.1) that records what it receives
and can be told to misbehave per recipient: temporary or permanent refusals, unknown
mailboxes, a connection dropped in the middle of DATA, a slow answer."""

from __future__ import annotations

import socket
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser

from aiosmtpd.controller import Controller


@dataclass
class Received:
    """One message the server accepted."""

    sender: str
    recipients: list[str]
    data: bytes

    @property
    def message(self):
        """The message parsed with email.policy.default."""
        return BytesParser(policy=policy.default).parsebytes(self.data)


@dataclass
class Faults:
    """What to do to each recipient: a queue of answers at DATA ('421 …', '451 …', '554 …',
    'drop'), consumed one per attempt; refused at RCPT for good; delay in seconds."""

    at_data: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    at_rcpt: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class _Handler:
    def __init__(self, server: SMTPServer) -> None:
        self.server = server

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if self.server.pipelining:
            # aiosmtpd reads commands as a stream, so it takes pipelined ones; it just
            # does not say so. Real servers (Postfix, Exim) do, and the client uses it.
            responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        refusal = self.server.faults.at_rcpt.get(address.lower())
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        faults = self.server.faults
        if faults.delay:
            time.sleep(faults.delay)  # deliberately blocking: a slow server
        for rcpt in envelope.rcpt_tos:
            queue = faults.at_data.get(rcpt.lower())
            if queue:
                answer = queue.pop(0)
                if answer == "drop":
                    server.transport.close()  # the connection dies mid-DATA, no reply
                    return "421 closing"
                return answer
        with self.server.lock:
            self.server.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content)
            )
        return "250 Message accepted for delivery"


class SMTPServer:
    """Start with .start(); .port, .received, .faults; .stop()."""

    def __init__(self, pipelining: bool = True, **options) -> None:
        """options go to aiosmtpd's Controller: ssl_context (implicit TLS), tls_context
        (STARTTLS), authenticator, auth_require_tls, …"""
        self.pipelining = pipelining
        self.received: list[Received] = []
        self.faults = Faults()
        self.lock = threading.Lock()
        with socket.socket() as probe:  # a free port (aiosmtpd's Controller wants one)
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(
            _Handler(self), hostname="127.0.0.1", port=self.port, **options
        )

    def start(self) -> SMTPServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def to(self, address: str) -> list[Received]:
        """The messages received for one address."""
        with self.lock:
            return [r for r in self.received if address.lower() in map(str.lower, r.recipients)]
