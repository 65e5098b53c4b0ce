"""The `aegis` command, the composition root: it may import every package."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from aegis_cli import audit_cmd, db_cmd, demo_cmd, dev_cmd, keys_cmd, serve_cmd, verify_cmd

COMMAND_MODULES = [demo_cmd, dev_cmd, db_cmd, audit_cmd, keys_cmd, serve_cmd, verify_cmd]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aegis", description="Aegis Refine operations.")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in COMMAND_MODULES:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
