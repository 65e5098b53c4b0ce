"""Source fetching: every SSRF case refused; size, emptiness and errors handled."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from aegis_core.errors import SourceRefused
from aegis_core.refine.fetch import fetch

LOOPBACK = frozenset({"127.0.0.1"})


@pytest.fixture
def server() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            routes = {
                "/data.json": (200, {}, b'{"text": "hello"}' * 100),
                "/empty": (200, {}, b""),
                "/big": (200, {}, b"x" * 5000),
                "/liar": (200, {"Content-Length": "999999999"}, b"x"),
                "/to-private": (302, {"Location": "http://10.0.0.1/secret"}, b""),
                "/to-metadata": (302, {"Location": "http://169.254.169.254/latest/"}, b""),
                "/to-data": (301, {"Location": "/data.json"}, b""),
                "/loop": (302, {"Location": "/loop"}, b""),
                "/missing": (404, {}, b"no"),
                "/host": (200, {}, self.headers["Host"].encode()),
            }
            status, headers, body = routes.get(self.path, (404, {}, b""))
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            if "Content-Length" not in headers:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.path != "/liar":
                self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()


def _local(url: str, dest: Path, **kw):
    return fetch(
        url,
        dest,
        max_bytes=kw.pop("max_bytes", 10_000),
        allow_insecure=True,
        allow_addresses=LOOPBACK,
        **kw,
    )


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("http://example.com/x", "only https"),
        ("ftp://example.com/x", "only https"),
        ("file:///etc/passwd", "development"),
        ("https://127.0.0.1/x", "Loopback"),
        ("https://10.1.2.3/x", "Private-Use"),
        ("https://172.16.0.5/x", "Private-Use"),
        ("https://172.31.255.1/x", "Private-Use"),
        ("https://192.168.1.1/x", "Private-Use"),
        ("https://169.254.169.254/latest/meta-data", "Link Local"),
        ("https://[::1]/x", "Loopback"),
        ("https://[::ffff:127.0.0.1]/x", "Loopback"),
        ("https://[::ffff:10.0.0.1]/x", "Private-Use"),
        ("https://[fe80::1]/x", "Link-Local"),
        ("https://[fc00::1]/x", "Unique-Local"),
        ("https://0.0.0.0/x", "This host on this network"),
        ("https://100.64.0.1/x", "Shared Address Space"),
        ("https://224.0.0.1/x", "Multicast"),
        ("https://user:pw@example.com/x", "credentials"),
    ],
)
def test_ssrf_targets_are_refused(tmp_path: Path, url: str, fragment: str) -> None:
    with pytest.raises(SourceRefused, match=fragment):
        fetch(url, tmp_path / "out", max_bytes=1000)
    assert not (tmp_path / "out").exists()


def test_name_resolving_to_private_address_is_refused(tmp_path: Path) -> None:
    def resolver(host: str, port: int) -> list[str]:
        return ["93.184.216.34", "10.0.0.7"] if host == "sneaky.example" else []

    with pytest.raises(SourceRefused, match="Private-Use") as refused:
        fetch("https://sneaky.example/data", tmp_path / "out", max_bytes=1000, resolver=resolver)
    assert "10.0.0.7" not in str(refused.value)  # what our DNS says inside is not theirs


def test_redirects_are_vetted_at_every_hop(tmp_path: Path, server: str) -> None:
    with pytest.raises(SourceRefused, match="Private-Use"):
        _local(f"{server}/to-private", tmp_path / "a")
    with pytest.raises(SourceRefused, match="Link Local"):
        _local(f"{server}/to-metadata", tmp_path / "b")
    with pytest.raises(SourceRefused, match="redirects"):
        _local(f"{server}/loop", tmp_path / "c")
    ok = _local(f"{server}/to-data", tmp_path / "d")
    assert ok.final_url.endswith("/data.json") and ok.bytes == 1700


def test_streams_to_disk_with_sha256(tmp_path: Path, server: str) -> None:
    import hashlib

    result = _local(f"{server}/data.json", tmp_path / "src")
    assert result.bytes == 1700 and result.path.read_bytes() == b'{"text": "hello"}' * 100
    assert result.sha256 == hashlib.sha256(result.path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("path", "fragment"),
    [("/empty", "empty"), ("/big", "limit"), ("/liar", "declares"), ("/missing", "HTTP 404")],
)
def test_bad_bodies_are_refused_and_leave_no_file(
    tmp_path: Path, server: str, path: str, fragment: str
) -> None:
    with pytest.raises(SourceRefused, match=fragment):
        _local(f"{server}{path}", tmp_path / "out", max_bytes=4096)
    assert not (tmp_path / "out").exists()


def test_loopback_allowance_is_exact(tmp_path: Path, server: str) -> None:
    with pytest.raises(SourceRefused, match="Loopback"):
        fetch(f"{server}/data.json", tmp_path / "out", max_bytes=10_000, allow_insecure=True)


def _liar(host: str, port: int) -> list[str]:
    """A resolver that calls every name public: refusals below come from the URL alone."""
    return ["93.184.215.14"]


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("https://0x7f000001/x", "Loopback"),
        ("https://127.1/x", "Loopback"),
        ("https://017700000001/x", "Loopback"),
        ("https://2130706433/x", "Loopback"),
        ("https://0177.0.0.1/x", "Loopback"),
        ("https://0x7f.0.0.1/x", "Loopback"),
        ("https://127.0.0.1./x", "Loopback"),
        ("https://%31%32%37.0.0.1/x", "Loopback"),
        ("https://\uff11\uff12\uff17.\uff10.\uff10.\uff11/x", "Loopback"),
        ("https://127\u30020\u30020\u30021/x", "Loopback"),
        ("https://0xa9fea9fe/latest", "Link Local"),
        ("https://10.0.0.5/x", "Private-Use"),
        ("https://192.0.0.8/x", "IPv4 dummy address"),
        ("https://[::ffff:7f00:1]/x", "Loopback"),
        ("https://[2002:7f00:1::]/x", "Loopback"),
        ("https://[64:ff9b::a9fe:a9fe]/x", "Link Local"),
        ("https://[2001:0:4136:e378:8000:63bf:80ff:fffe]/x", "Loopback"),
        ("https://[5f00::1]/x", "SRv6"),
        ("https://08.0.0.1/x", "malformed"),
        ("https://1.2.3.4.5/x", "malformed"),
        ("https://[fe80::1%25eth0]/x", "malformed"),
    ],
)
def test_numeric_and_encoded_hosts_are_read_as_a_browser_reads_them(
    tmp_path: Path, url: str, fragment: str
) -> None:
    with pytest.raises(SourceRefused, match=fragment):
        fetch(url, tmp_path / "out", max_bytes=1000, resolver=_liar)


def test_names_are_resolved_in_their_ascii_form(tmp_path: Path) -> None:
    asked: list[str] = []

    def resolver(host: str, port: int) -> list[str]:
        asked.append(host)
        return ["127.0.0.1"]

    for url in ("https://Ex%41mple.COM/x", "https://b\u00fccher.example:8443/x"):
        with pytest.raises(SourceRefused, match="Loopback"):
            fetch(url, tmp_path / "out", max_bytes=1000, resolver=resolver)
    assert asked == ["example.com", "xn--bcher-kva.example"]


def test_connects_to_the_vetted_address_and_sends_the_name(tmp_path: Path, server: str) -> None:
    port = server.rsplit(":", 1)[1]

    def resolver(host: str, _: int) -> list[str]:
        return ["127.0.0.1"] if host == "data.example" else []

    result = _local(f"http://Data.Example:{port}/host", tmp_path / "out", resolver=resolver)
    assert result.path.read_bytes() == f"data.example:{port}".encode()
    assert result.final_url == f"http://data.example:{port}/host"


def test_unresolvable_host_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SourceRefused, match="cannot resolve host"):
        fetch("https://no-such-host.invalid/x", tmp_path / "out", max_bytes=1000)
