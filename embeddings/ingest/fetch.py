"""Fetching a link a user typed, without letting it reach inside the network the bot runs in.

http and https only; every address the name resolves to must be public (not private, loopback,
link-local, multicast or reserved) unless `allow_private` is set; the connection goes to the
address that was checked (no second lookup a hostile DNS could answer differently); each redirect
is checked the same way; the body is read up to a size limit, within a timeout, and only a PDF, an
HTML page or plain text is accepted.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from embeddings.corpus.documents import MAX_STATEMENT_BYTES
from embeddings.ingest.errors import IngestError

TIMEOUT = 20.0
MAX_REDIRECTS = 5
ACCEPTED_TYPES = ("application/pdf", "text/html", "application/xhtml+xml", "text/plain")
USER_AGENT = "Verbatim/0.1 (statement archive; +https://github.com/)"


@dataclass(frozen=True)
class Fetched:
    url: str
    """The address the content came from, after redirects."""
    content_type: str
    data: bytes


def fetch(
    url: str, *, allow_private: bool = False, timeout: float = TIMEOUT, limit: int = MAX_STATEMENT_BYTES
) -> Fetched:
    for _ in range(MAX_REDIRECTS + 1):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise IngestError(f"{url} is not an http(s) link")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        address = _checked_address(parts.hostname, port, allow_private)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection = _connection(parts.scheme, parts.hostname, address, port, timeout)
        try:
            connection.request("GET", path, headers={"User-Agent": USER_AGENT, "Accept": ", ".join(ACCEPTED_TYPES)})
            response = connection.getresponse()
            if response.status in (301, 302, 303, 307, 308):
                location = response.getheader("Location")
                if not location:
                    raise IngestError(f"{url} redirects without saying where")
                url = urljoin(url, location)
                continue
            if response.status != 200:
                raise IngestError(f"{url} answered {response.status} {response.reason}")
            content_type = (response.getheader("Content-Type") or "").split(";")[0].strip().lower()
            if content_type not in ACCEPTED_TYPES:
                raise IngestError(f"{url} is {content_type or 'of no stated type'}, not a PDF, a web page or text")
            declared = response.getheader("Content-Length")
            if declared and declared.isdigit() and int(declared) > limit:
                raise IngestError(f"{url} is {int(declared) / 1e6:.1f} MB, over the {limit / 1e6:.0f} MB limit")
            data = response.read(limit + 1)
            if len(data) > limit:
                raise IngestError(f"{url} is over the {limit / 1e6:.0f} MB limit")
            return Fetched(url, content_type, data)
        except (OSError, http.client.HTTPException) as exc:
            raise IngestError(f"{url} could not be fetched ({exc.__class__.__name__}: {exc})") from None
        finally:
            connection.close()
    raise IngestError(f"{url} redirects more than {MAX_REDIRECTS} times")


def _checked_address(host: str, port: int, allow_private: bool) -> str:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise IngestError(f"{host} cannot be found ({exc.strerror})") from None
    addresses = [str(info[4][0]) for info in infos]
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if not allow_private and not ip.is_global:
            raise IngestError(
                f"{host} is on a private, loopback or link-local network ({ip}); links there are refused "
                "(VERBATIM_ALLOW_PRIVATE_LINKS=1 allows them)"
            )
    return addresses[0]


def _connection(scheme: str, host: str, address: str, port: int, timeout: float) -> http.client.HTTPConnection:
    if scheme == "http":
        return _PinnedHTTP(host, address, port, timeout)
    return _PinnedHTTPS(host, address, port, timeout)


class _PinnedHTTP(http.client.HTTPConnection):
    """Connects to the address that was checked, while naming the host in the request."""

    def __init__(self, host: str, address: str, port: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host: str, address: str, port: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)  # type: ignore[attr-defined]
