"""A real SMTP server for the tests (aiosmtpd on 127.0.0.1) that records what it receives
and can be told to misbehave per recipient: temporary or permanent refusals, unknown
mailboxes, a connection dropped in the middle of DATA, a slow answer. With tls (a
self-signed certificate, see self_signed) it offers STARTTLS; with logins, AUTH."""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


@dataclass
class Received:
    """One message the server accepted."""

    sender: str
    recipients: list[str]
    data: bytes
    peer: tuple = ()  # the client's (host, port): one value per connection
    at: float = 0.0  # time.monotonic() when it was accepted

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
                Received(
                    envelope.mail_from,
                    list(envelope.rcpt_tos),
                    envelope.content,
                    session.peer,
                    time.monotonic(),
                )
            )
        return "250 Message accepted for delivery"


class SMTPServer:
    """Start with .start(); .port, .received, .faults; .stop()."""

    def __init__(
        self,
        pipelining: bool = True,
        tls: tuple[Path, Path] | None = None,
        logins: dict[str, str] | None = None,
        **options,
    ) -> None:
        """tls: (certificate, key) files: STARTTLS is offered with them. logins: user →
        password: AUTH PLAIN and LOGIN are offered (after STARTTLS when tls is given, as
        real servers do). Other options go to aiosmtpd's Controller: ssl_context
        (implicit TLS), tls_context, authenticator, auth_require_tls, …"""
        if tls is not None:
            options.setdefault("tls_context", server_context(*tls))
        if logins is not None:
            options.setdefault("authenticator", _Logins(logins))
            options.setdefault("auth_require_tls", tls is not None)
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


class _Logins:
    """aiosmtpd authenticator: these users with these passwords, nobody else."""

    def __init__(self, logins: dict[str, str]) -> None:
        self.logins = logins

    def __call__(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        user = auth_data.login.decode()
        ok = self.logins.get(user) == auth_data.password.decode()
        return AuthResult(success=ok, handled=False)


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    """The server side's TLS context for a certificate and its key."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert), str(key))
    return context


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, signed by itself, and its key, written
    into directory: (certificate, key). A client trusts it with SSL_CERT_FILE set to the
    certificate (OpenSSL's default verify paths read that variable)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file
