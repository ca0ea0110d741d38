"""One HTTP POST of a webhook payload, signed as MLflow signs it (mlflow/webhooks/delivery.py):

    body       = json.dumps({"entity", "action", "timestamp", "data"})
    signature  = "v1," + base64(HMAC-SHA256(secret, f"{delivery_id}.{unix_timestamp}.{body}"))
    headers    = X-MLflow-Delivery-Id, X-MLflow-Timestamp, X-MLflow-Signature (with a secret only)

Connections are checked at connect time: unless private addresses are allowed, a peer that is not
a public IP is refused before anything is sent (no DNS-rebinding window between check and use);
no proxy from the environment is used, and redirects are not followed.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import time
from dataclasses import dataclass

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.poolmanager import PoolManager

from mltracker.service.registry_webhooks.addresses import is_public

SIGNATURE_HEADER = "X-MLflow-Signature"
TIMESTAMP_HEADER = "X-MLflow-Timestamp"
DELIVERY_ID_HEADER = "X-MLflow-Delivery-Id"
MAX_RESPONSE_BODY = 64 * 1024


class NonPublicPeer(Exception):
    """The connection reached an address that is not public: nothing was sent."""


@dataclass(frozen=True)
class Sent:
    status: int
    body: str


def body_of(event: str, timestamp: str, data: dict) -> str:
    entity, action = event.split(".", 1)
    return json.dumps({"entity": entity, "action": action, "timestamp": timestamp, "data": data})


def signature(secret: str, delivery_id: str, unix_timestamp: str, body: str) -> str:
    signed = f"{delivery_id}.{unix_timestamp}.{body}".encode("utf-8")
    digest = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def _check_peer(sock) -> None:
    try:
        peer = ipaddress.ip_address(sock.getpeername()[0])
    except (OSError, ValueError) as exc:
        sock.close()
        raise NonPublicPeer(f"could not tell the webhook connection's peer address: {exc}") from None
    if not is_public(peer):
        sock.close()
        raise NonPublicPeer(f"webhook connection blocked: {peer} is not a public IP address")


class _CheckedHTTPConnection(HTTPConnection):
    def _new_conn(self):
        sock = super()._new_conn()
        _check_peer(sock)
        return sock


class _CheckedHTTPSConnection(HTTPSConnection):
    def _new_conn(self):
        sock = super()._new_conn()
        _check_peer(sock)
        return sock


class _CheckedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _CheckedHTTPConnection


class _CheckedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _CheckedHTTPSConnection


class _PublicOnlyAdapter(HTTPAdapter):
    def init_poolmanager(self, connections, maxsize, block=False, **pool_kwargs):
        self.poolmanager = PoolManager(num_pools=connections, maxsize=maxsize, block=block, **pool_kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _CheckedHTTPPool, "https": _CheckedHTTPSPool}


def session(allow_private_ips: bool) -> requests.Session:
    s = requests.Session()
    s.trust_env = False
    if not allow_private_ips:
        s.mount("http://", _PublicOnlyAdapter())
        s.mount("https://", _PublicOnlyAdapter())
    return s


def post(http: requests.Session, url: str, *, event: str, data: dict, timestamp: str, delivery_id: str,
         secret: str | None, timeout: float) -> Sent:
    """Send once; raises requests' exceptions (and NonPublicPeer inside them) on no answer."""
    body = body_of(event, timestamp, data)
    unix_timestamp = str(int(time.time()))
    headers = {"Content-Type": "application/json", DELIVERY_ID_HEADER: delivery_id, TIMESTAMP_HEADER: unix_timestamp}
    if secret:
        headers[SIGNATURE_HEADER] = signature(secret, delivery_id, unix_timestamp, body)
    with http.post(url, data=body.encode("utf-8"), headers=headers, timeout=timeout,
                   allow_redirects=False, stream=True) as response:
        text = response.raw.read(MAX_RESPONSE_BODY, decode_content=True).decode(
            response.encoding or "utf-8", errors="replace")
        return Sent(response.status_code, text)
