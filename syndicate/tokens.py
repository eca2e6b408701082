"""Signed tokens for unsubscribe and preferences links (itsdangerous, HMAC-SHA1 by default).

A token names a subscriber (by the hash of their address, never the address) and a digest,
so a link works for that pair only and cannot be forged or pointed at someone else.
"""

from __future__ import annotations

import hashlib
import hmac

from itsdangerous import BadSignature, URLSafeSerializer, URLSafeTimedSerializer

CONFIRM_DAYS = 7


class Tokens:
    """Makes and reads the signed tokens of one project."""

    def __init__(self, key: str) -> None:
        self._key = ("syndicate.message-id:" + key).encode()
        self._unsubscribe = URLSafeSerializer(key, salt="syndicate.unsubscribe")
        self._preferences = URLSafeSerializer(key, salt="syndicate.preferences")
        # Confirmation links expire: a week-old one is refused (the signing time is inside).
        self._confirm = URLSafeTimedSerializer(key, salt="syndicate.confirm")

    def message_id(self, edition_key: str, subscriber_id: str) -> str:
        """The left part of the Message-ID of one edition's message to one subscriber: the
        same each time it is composed (receivers drop a copy re-sent after a crash), and
        keyed, so it tells nobody the subscriber's address hash."""
        mac = hmac.new(self._key, f"{edition_key}:{subscriber_id}".encode(), hashlib.sha256)
        return f"{edition_key}.{mac.hexdigest()[:20]}"

    def confirm(self, subscriber_id: str, digest: str) -> str:
        """A token for the double opt-in confirmation link, valid for CONFIRM_DAYS."""
        return self._confirm.dumps([subscriber_id, digest])

    def read_confirm(self, token: str) -> tuple[str, str] | None:
        """(subscriber id, digest) of a genuine, unexpired confirmation token, else None."""
        try:
            value = self._confirm.loads(token, max_age=CONFIRM_DAYS * 86400)
        except BadSignature:
            return None
        return _pair(value)

    def unsubscribe(self, subscriber_id: str, digest: str) -> str:
        """A token for one-click unsubscribe of one subscriber from one digest."""
        return self._unsubscribe.dumps([subscriber_id, digest])

    def preferences(self, subscriber_id: str, digest: str) -> str:
        """A token for one subscriber's preferences page, reached from one digest."""
        return self._preferences.dumps([subscriber_id, digest])

    def read_unsubscribe(self, token: str) -> tuple[str, str] | None:
        """(subscriber id, digest) of a genuine unsubscribe token, else None."""
        return _read(self._unsubscribe, token)

    def read_preferences(self, token: str) -> tuple[str, str] | None:
        """(subscriber id, digest) of a genuine preferences token, else None."""
        return _read(self._preferences, token)


def _read(serializer: URLSafeSerializer, token: str) -> tuple[str, str] | None:
    try:
        value = serializer.loads(token)
    except BadSignature:
        return None
    return _pair(value)


def _pair(value) -> tuple[str, str] | None:
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value):
        return value[0], value[1]
    return None
