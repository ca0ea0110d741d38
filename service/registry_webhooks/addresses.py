"""Which addresses a webhook may reach: MLflow's rule (public IPs only, unless
MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS) checked on the URL's host when a webhook is saved and, against DNS
rebinding, on the peer of every connection a delivery opens."""
from __future__ import annotations

import ipaddress
import socket
import threading

from mltracker.service.errors import invalid

RESOLVE_TIMEOUT_S = 5.0
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_resolutions = threading.BoundedSemaphore(8)


def is_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Public, also once an IPv4 address wrapped in an IPv6 transition format is unwrapped."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            ip = embedded
    return ip.is_global


def _resolve(hostname: str) -> list:
    if not _resolutions.acquire(timeout=RESOLVE_TIMEOUT_S):
        raise invalid(f"Timed out waiting to resolve Webhook URL hostname {hostname!r} because "
                      "too many hostname resolutions are already in progress")
    result: dict = {}

    def run():
        try:
            result["infos"] = socket.getaddrinfo(hostname, None)
        except Exception as exc:  # noqa: BLE001 - reported below
            result["error"] = exc
        finally:
            _resolutions.release()

    thread = threading.Thread(target=run, daemon=True, name="webhook-host-resolution")
    thread.start()
    thread.join(RESOLVE_TIMEOUT_S)
    if thread.is_alive():
        raise invalid(f"Timed out resolving Webhook URL hostname {hostname!r} after {RESOLVE_TIMEOUT_S:g} seconds")
    if "error" in result:
        raise invalid(f"Cannot resolve Webhook URL hostname {hostname!r}: {result['error']}")
    return result["infos"]


def check_public_host(hostname: str) -> None:
    for info in _resolve(hostname):
        try:
            ip = ipaddress.ip_address(info[4][0])
        except ValueError as exc:
            raise invalid(f"Webhook URL hostname {hostname!r} resolved to an invalid IP address: {exc}") from None
        if not is_public(ip):
            raise invalid(f"Webhook URL must not resolve to a non-public IP address. {hostname!r} resolves to {ip}.")
