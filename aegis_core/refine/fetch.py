"""Fetching a customer's source URL without letting it reach inside our network.

Every hop (the URL and each redirect) is parsed as a browser would and resolved here;
every address it resolves to must be globally reachable (`addresses`), and the connection
is made to the address we vetted (the name is kept for the Host header, SNI and
certificate checks), so DNS cannot be re-pointed between the check and the connect.
Orders are vetted by the same `check_source` when they are placed. Bytes stream to disk
under a size cap while their SHA-256 is computed; nothing is held in memory.
"""

from __future__ import annotations

import hashlib
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import ada_url
import httpx

from aegis_core.errors import SourceRefused
from aegis_core.refine.addresses import refusal_reason

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
    """Every address `host` resolves to, in the system's order of preference."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise SourceRefused(f"cannot resolve host {host!r}: {reason}") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class Target:
    """One vetted hop: the URL as a browser reads it and the address to connect to."""

    url: str
    scheme: str
    host: str  # ASCII (IDNA); an IPv6 literal in brackets
    host_header: str
    address: str
    is_ip: bool


def _is_file(url: str) -> bool:
    """A file:// URL; False when `urlsplit` cannot split it ("https://[" raises), so the
    WHATWG parse in `_vet` refuses it as malformed instead of the caller crashing."""
    try:
        return urlsplit(url).scheme.lower() == "file"
    except ValueError:
        return False


def check_source(
    url: str,
    *,
    allow_insecure: bool,
    resolver: Resolver = system_resolver,
    allow_addresses: frozenset[str] = frozenset(),
) -> Target | None:
    """Refuse (`SourceRefused`) a source that can never be fetched: one rule for order
    creation and every fetch hop. None for a file:// source (development mode only)."""
    if _is_file(url):
        if not allow_insecure:
            raise SourceRefused(
                "file:// sources are only accepted in development mode; use an https URL"
            )
        return None
    return _vet(
        url, allow_insecure=allow_insecure, resolver=resolver, allow_addresses=allow_addresses
    )


def _vet(
    url: str, *, allow_insecure: bool, resolver: Resolver, allow_addresses: frozenset[str]
) -> Target:
    """Parse `url` as a browser would (WHATWG URL: 0x7f000001, 127.1 and 2130706433 are
    127.0.0.1; IDNA; percent-decoded hosts), then vet every address its host resolves to."""
    try:
        parsed = ada_url.URL(url)
    except ValueError:
        raise SourceRefused("source URL is malformed or has no valid host") from None
    scheme = parsed.protocol.removesuffix(":")
    if scheme not in (("https", "http") if allow_insecure else ("https",)):
        raise SourceRefused(f"only https sources are accepted, not {scheme or 'no'} scheme")
    if parsed.username or parsed.password:
        raise SourceRefused("source URLs must not carry credentials")
    host = parsed.hostname
    if not host:
        raise SourceRefused("source URL has no host")
    port = int(parsed.port) if parsed.port else (443 if scheme == "https" else 80)
    is_ip = parsed.host_type != ada_url.HostType.DEFAULT
    addresses = [host.strip("[]")] if is_ip else resolver(host, port)
    if not addresses:
        raise SourceRefused(f"host {host!r} resolves to no address")
    for address in addresses:
        try:
            reason = None if address in allow_addresses else refusal_reason(address, reveal=is_ip)
        except ValueError:
            reason = f"{address!r} is not an IP address"
        if reason:
            raise SourceRefused(f"refused {host}: {reason}")
    href = ada_url.replace_url(parsed.href, hash="")
    return Target(href, scheme, host, parsed.host, addresses[0], is_ip)


def _pinned(target: Target) -> str:
    literal = f"[{target.address}]" if ":" in target.address else target.address
    return ada_url.replace_url(target.url, hostname=literal)


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
    if _is_file(url):
        check_source(url, allow_insecure=allow_insecure)  # development mode only
        return _fetch_file(url, dest, max_bytes)
    current = url
    with httpx.Client(timeout=TIMEOUT, follow_redirects=False, trust_env=False) as client:
        for _ in range(MAX_REDIRECTS + 1):
            target = _vet(
                current,
                allow_insecure=allow_insecure,
                resolver=resolver,
                allow_addresses=allow_addresses,
            )
            current = target.url
            headers = {
                "Host": target.host_header,
                "User-Agent": USER_AGENT,
                "Accept-Encoding": "identity",
            }
            sni = target.scheme == "https" and not target.is_ip
            request = client.build_request(
                "GET",
                _pinned(target),
                headers=headers,
                extensions={"sni_hostname": target.host} if sni else {},
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
                    try:
                        current = ada_url.join_url(current, location)
                    except ValueError:
                        raise SourceRefused(f"redirect to a malformed URL: {location!r}") from None
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
