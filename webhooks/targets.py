"""Where a webhook may be sent: checked when an endpoint is saved and again at every send.

Production refuses receivers on private, loopback, link-local and other non-public
addresses (SSRF: a tenant admin must not make our workers call the cloud's metadata
service or the database). The request goes to the address that was checked, with the
host name kept for the Host header and TLS, so a DNS answer that changes between the
check and the connection (rebinding) cannot redirect it.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from core.errors import InvalidRequest


class TargetRefused(InvalidRequest):
    """A receiver URL we will not call; the sentence says why."""

    code = "webhook_target_refused"


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # path and query, as sent
    address: str  # the checked IP address to connect to

    def is_for(self, url: str) -> bool:
        """Whether this checked target is `url`'s (parsing only: no DNS)."""
        return parse(url) == (self.scheme, self.host, self.port, self.path)


def private_allowed() -> bool:
    return bool(getattr(settings, "WEBHOOKS_ALLOW_PRIVATE_TARGETS", False))


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def parse(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path) of a URL we may keep, or TargetRefused with the reason."""
    url = (url or "").strip()
    if len(url) > 1000:
        raise TargetRefused("The URL is longer than 1000 characters.", field="url")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise TargetRefused("The URL must start with https:// (or http:// in development).", field="url")
    if scheme == "http" and not private_allowed():
        raise TargetRefused("Use an https:// URL: webhooks carry your learners' data.", field="url")
    if parts.username or parts.password:
        raise TargetRefused(
            "Put no user name or password in the URL: check the webhook-signature header instead.",
            field="url",
        )
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise TargetRefused("The URL has no host name.", field="url")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise TargetRefused("The URL's port is not a number between 1 and 65535.", field="url") from None
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return scheme, host, port, path


def resolve(url: str) -> Target:
    """The URL's target with a checked address to connect to, or TargetRefused."""
    scheme, host, port, path = parse(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise TargetRefused(f"The host name {host!r} does not resolve.", field="url") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not private_allowed():
        refused = [a for a in addresses if not _public(a)]
        if refused:
            raise TargetRefused(
                f"{host} resolves to {refused[0]}, a private or reserved address: "
                "webhooks go only to public addresses.",
                field="url",
            )
    return Target(scheme, host, port, path, addresses[0])
