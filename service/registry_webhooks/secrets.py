"""Secrets at rest (registry webhooks' HMAC secrets, AI Gateway provider credentials): Fernet
(AES-128-CBC + HMAC-SHA256) with a key derived from MLTRACKER_WEBHOOK_ENCRYPTION_KEY, or from the
app's secret key when that is unset; each kind of secret derives its own key (`purpose`)."""
from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken


class SecretUnreadable(Exception):
    """A stored secret was sealed with another key (the key changed): set the secret again."""


class SecretBox:
    def __init__(self, key: str, purpose: bytes = b"mltracker registry-webhook secrets"):
        digest = hashlib.sha256(purpose + b"\0" + key.encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))

    def seal(self, secret: str | None) -> str | None:
        return None if secret is None else self._fernet.encrypt(secret.encode()).decode()

    def open(self, sealed: str | None) -> str | None:
        if sealed is None:
            return None
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise SecretUnreadable("the secret was encrypted with another key") from None
