"""Fetching a link a user typed, without letting it reach inside the network the bot runs in.

http and https only; every address the name resolves to must be public (not private, loopback,
link-local, multicast or reserved) unless `allow_private` is set; the connection goes to the
address that was checked (no second lookup a hostile DNS could answer differently); each redirect
is checked the same way; the body is read up to a size limit, and only a PDF, an HTML page or plain
text is accepted. Every read has a timeout and the whole fetch a deadline: a server that sends a few
bytes every second would otherwise hold the command (or the bot's worker) for as long as it likes.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from embeddings.corpus.documents import MAX_STATEMENT_BYTES
from embeddings.ingest.errors import IngestError

TIMEOUT = 20.0
"""Seconds any one step (connecting, a read) may take."""
DEADLINE = 60.0
"""Seconds the whole fetch may take, redirects and body included."""
READ_CHUNK = 65_536
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
    url: str,
    *,
    allow_private: bool = False,
    timeout: float = TIMEOUT,
    deadline: float = DEADLINE,
    limit: int = MAX_STATEMENT_BYTES,
) -> Fetched:
    give_up = time.monotonic() + deadline
    for _ in range(MAX_REDIRECTS + 1):
        try:
            parts = urlsplit(url)
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as exc:  # a port past 65535, a broken [IPv6] address
            raise IngestError(f"{url} is not a valid link ({exc})") from exc
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise IngestError(f"{url} is not an http(s) link")
        address = _checked_address(parts.hostname, port, allow_private)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection = _connection(parts.scheme, parts.hostname, address, port, min(timeout, deadline))
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
            return Fetched(url, content_type, _body(connection, response, url, limit, timeout, give_up, deadline))
        except (OSError, http.client.HTTPException) as exc:
            raise IngestError(f"{url} could not be fetched ({exc.__class__.__name__}: {exc})") from None
        finally:
            connection.close()
    raise IngestError(f"{url} redirects more than {MAX_REDIRECTS} times")


def _body(
    connection: http.client.HTTPConnection,
    response: http.client.HTTPResponse,
    url: str,
    limit: int,
    timeout: float,
    give_up: float,
    deadline: float,
) -> bytes:
    """The body, a piece at a time, each read bounded by what is left of the deadline."""
    pieces: list[bytes] = []
    size = 0
    while True:
        left = give_up - time.monotonic()
        too_slow = IngestError(f"{url} took over {deadline:g} s to send ({size / 1000:.0f} kB arrived); giving up")
        if left <= 0:
            raise too_slow
        if connection.sock is not None:
            connection.sock.settimeout(min(timeout, left))
        try:
            piece = response.read1(READ_CHUNK)
        except TimeoutError:
            if time.monotonic() >= give_up:
                raise too_slow from None
            raise
        if not piece:
            return b"".join(pieces)
        pieces.append(piece)
        size += len(piece)
        if size > limit:
            raise IngestError(f"{url} is over the {limit / 1e6:.0f} MB limit")


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
