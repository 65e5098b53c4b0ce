"""The base of links handed to customers when AEGIS_PUBLIC_BASE_URL is not set: the address
the API really listens on (`aegis serve`, `aegis dev`), not a fixed port."""

from __future__ import annotations

import ipaddress
import os

PUBLIC_BASE_URL_ENV = "AEGIS_PUBLIC_BASE_URL"


def public_base_url(host: str, port: int) -> str:
    """`http://host:port` for a server bound to host:port; a wildcard address (all
    interfaces) is reached through loopback on this machine."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return f"http://{host}:{port}"
    if address.is_unspecified:
        address = ipaddress.ip_address("::1" if address.version == 6 else "127.0.0.1")
    return f"http://{f'[{address}]' if address.version == 6 else address}:{port}"


def export_public_base_url(host: str, port: int) -> str:
    """AEGIS_PUBLIC_BASE_URL as set, else the server's own address, exported for the app and
    every child process; returns the value in force."""
    from aegis_core.settings import get_settings

    if not os.environ.get(PUBLIC_BASE_URL_ENV):
        os.environ[PUBLIC_BASE_URL_ENV] = public_base_url(host, port)
    get_settings.cache_clear()
    return os.environ[PUBLIC_BASE_URL_ENV]
