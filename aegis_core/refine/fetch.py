"""Fetching a customer's source URL without letting it reach inside our network.

Every hop (the URL and each redirect) is resolved here, every address it resolves to
must be globally routable, and the connection is made to the address we vetted (the
name is kept for the Host header, SNI and certificate checks), so DNS cannot be
re-pointed between the check and the connect. Bytes stream to disk under a size cap
while their SHA-256 is computed; nothing is held in memory.
"""

from __future__ import annotations

import hashlib
import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx

from aegis_core.errors import SourceRefused

Resolver = Callable[[str, int], list[str]]
MAX_REDIRECTS = 5
CHUNK = 1 << 16
TIMEOUT = httpx.Timeout(connect=10.0, read=30.0, write=10.0, pool=10.0)
USER_AGENT = "AegisRefine/0.1 (+https://undercurrentholdings.com)"


@dataclass(frozen=True)
class FetchResult:
    path: Path
    bytes: int
    sha256: str
    content_type: str | None
    final_url: str


def system_resolver(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise SourceRefused(f"cannot resolve host {host!r}: {exc.strerror}") from None
    return sorted({info[4][0] for info in infos})


def refusal_reason(address: str) -> str | None:
    """Why an address may not be fetched from, or None when it is public."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for label, flag in (
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("unspecified", ip.is_unspecified),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
    ):
        if flag:
            return f"{label} address {ip}"
    if not ip.is_global:  # shared (100.64/10), documentation, benchmarking, ...
        return f"non-public address {ip}"
    return None


def _vet(
    url: str, *, allow_insecure: bool, resolver: Resolver, allow_addresses: frozenset[str]
) -> tuple[str, str, int]:
    """(scheme, vetted address, port) for one hop, or `SourceRefused`."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in (("https", "http") if allow_insecure else ("https",)):
        raise SourceRefused(f"only https sources are accepted, not {scheme or 'no'} scheme")
    if parts.username or parts.password:
        raise SourceRefused("source URLs must not carry credentials")
    host = parts.hostname
    if not host:
        raise SourceRefused("source URL has no host")
    port = parts.port or (443 if scheme == "https" else 80)
    addresses = [host] if _is_ip(host) else resolver(host, port)
    if not addresses:
        raise SourceRefused(f"host {host!r} resolves to no address")
    for address in addresses:
        reason = None if address in allow_addresses else refusal_reason(address)
        if reason:
            raise SourceRefused(f"refused {host}: it resolves to a {reason}")
    return scheme, addresses[0], port


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def _pinned(url: str, address: str) -> str:
    parts = urlsplit(url)
    literal = f"[{address}]" if ":" in address else address
    netloc = f"{literal}:{parts.port}" if parts.port else literal
    return urlunsplit(parts._replace(netloc=netloc))


def _write_stream(chunks, dest: Path, max_bytes: int) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        with dest.open("wb") as out:
            for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise SourceRefused(f"source is larger than the {max_bytes:,}-byte limit")
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
    if size == 0:
        dest.unlink(missing_ok=True)
        raise SourceRefused("source is empty (0 bytes)")
    return size, digest.hexdigest()


def fetch(
    url: str,
    dest: Path,
    *,
    max_bytes: int,
    allow_insecure: bool = False,
    resolver: Resolver = system_resolver,
    allow_addresses: frozenset[str] = frozenset(),
) -> FetchResult:
    """Stream `url` to `dest`. `allow_insecure` (a dev setting) also permits http:// and
    file://; `allow_addresses` exempts exact addresses (tests run a server on loopback)."""
    if urlsplit(url).scheme.lower() == "file":
        if not allow_insecure:
            raise SourceRefused("file:// sources are only accepted in development mode")
        return _fetch_file(url, dest, max_bytes)
    current = url
    with httpx.Client(timeout=TIMEOUT, follow_redirects=False, trust_env=False) as client:
        for _ in range(MAX_REDIRECTS + 1):
            scheme, address, _ = _vet(
                current,
                allow_insecure=allow_insecure,
                resolver=resolver,
                allow_addresses=allow_addresses,
            )
            host = urlsplit(current).hostname or ""
            headers = {
                "Host": urlsplit(current).netloc.rpartition("@")[2],
                "User-Agent": USER_AGENT,
                "Accept-Encoding": "identity",
            }
            extensions = {"sni_hostname": host} if scheme == "https" and not _is_ip(host) else {}
            request = client.build_request(
                "GET", _pinned(current, address), headers=headers, extensions=extensions
            )
            try:
                response = client.send(request, stream=True)
            except httpx.HTTPError as exc:
                raise SourceRefused(f"could not fetch {current}: {exc}") from None
            try:
                if response.is_redirect:
                    location = response.headers.get("location")
                    if not location:
                        raise SourceRefused("redirect without a Location header")
                    current = urljoin(current, location)
                    continue
                if response.status_code != 200:
                    raise SourceRefused(f"source answered HTTP {response.status_code}")
                declared = response.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > max_bytes:
                    raise SourceRefused(
                        f"source declares {int(declared):,} bytes, over the {max_bytes:,} limit"
                    )
                try:
                    size, sha = _write_stream(response.iter_raw(CHUNK), dest, max_bytes)
                except httpx.HTTPError as exc:
                    raise SourceRefused(f"download of {current} failed: {exc}") from None
                return FetchResult(dest, size, sha, response.headers.get("content-type"), current)
            finally:
                response.close()
    raise SourceRefused(f"more than {MAX_REDIRECTS} redirects")


def _fetch_file(url: str, dest: Path, max_bytes: int) -> FetchResult:
    source = Path(urlsplit(url).path)
    if not source.is_file():
        raise SourceRefused(f"no such file: {source}")

    def chunks():
        with source.open("rb") as fh:
            while chunk := fh.read(CHUNK):
                yield chunk

    size, sha = _write_stream(chunks(), dest, max_bytes)
    return FetchResult(dest, size, sha, None, url)
