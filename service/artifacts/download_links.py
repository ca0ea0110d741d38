"""Short-lived download links to one stored artifact, signed by the server.

What the stock client's parallel download asks for when the store cannot presign a URL itself (a
local folder): a link to mltracker that carries its own authorization, an HMAC-SHA256 over the
storage key (project included) and the expiry time, keyed per purpose from the server's secret
key. Every replica that shares the secret key accepts the links of the others; nothing is stored.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass

_PURPOSE = b"mltracker artifact download links"
# A signature is 32 bytes, 43 characters of unpadded base64url; an expiry is epoch seconds.
_SIGNATURE_CHARS = 43
_MAX_EXPIRY_DIGITS = 12


@dataclass(frozen=True)
class SignedLink:
    expires: int
    signature: str


class LinkRefused(Exception):
    """The signature does not match the key and expiry."""


class LinkExpired(LinkRefused):
    """A genuine link whose time has passed."""


class LinkSigner:
    def __init__(self, secret_key: str):
        self._key = hashlib.sha256(_PURPOSE + b"\0" + secret_key.encode()).digest()

    def sign(self, storage_key: str, ttl_seconds: int, now: float | None = None) -> SignedLink:
        expires = int(now if now is not None else time.time()) + ttl_seconds
        return SignedLink(expires, self._signature(storage_key, expires))

    def check(self, storage_key: str, expires: str | None, signature: str | None, now: float | None = None) -> None:
        """Raise LinkRefused unless (expires, signature) were made by sign() for this key, and
        LinkExpired once the expiry has passed."""
        if not expires or not signature or len(signature) != _SIGNATURE_CHARS or not signature.isascii() \
                or len(expires) > _MAX_EXPIRY_DIGITS or not (expires.isascii() and expires.isdigit()):
            raise LinkRefused()
        expected = self._signature(storage_key, int(expires))
        if not hmac.compare_digest(expected, signature):
            raise LinkRefused()
        if int(expires) < (now if now is not None else time.time()):
            raise LinkExpired()

    def _signature(self, storage_key: str, expires: int) -> str:
        message = f"{expires}\n{storage_key}".encode("utf-8", "surrogatepass")
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
