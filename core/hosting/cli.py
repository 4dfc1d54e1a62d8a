"""`python -m core hosting serve`: the hosted stack (Caddy, coturn, N app servers) in the foreground until Ctrl-C."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

from core.hosting.stack import HostedStack, StackError, StackOptions


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core hosting", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="start the proxy, the relay and the app servers")
    serve.add_argument("--site", default=os.environ.get("WEBTUBE_SITE", "webtube.localhost"),
                       help="the name people open (it must resolve to this machine); default webtube.localhost")
    serve.add_argument("--https-port", type=int, default=int(os.environ.get("WEBTUBE_HTTPS_PORT", "8443")))
    serve.add_argument("--app-servers", type=int, default=int(os.environ.get("WEBTUBE_APP_SERVERS", "1")),
                       help="Streamlit processes behind the proxy (several need a shared DATABASE_URL)")
    serve.add_argument("--first-app-port", type=int, default=8501)
    serve.add_argument("--turn-port", type=int, default=3478, help="coturn's port; 0 runs no relay")
    serve.add_argument("--listen-ip", default="127.0.0.1", help="the relay's address (a public one when hosted)")
    return parser


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    if not 1 <= args.app_servers <= 16:
        print("error: --app-servers must be between 1 and 16", file=sys.stderr)
        return 2
    if args.app_servers > 1 and not os.environ.get("DATABASE_URL", "").startswith("postgresql"):
        print("error: several app servers share one database: set DATABASE_URL to PostgreSQL", file=sys.stderr)
        return 2
    ports = tuple(range(args.first_app_port, args.first_app_port + args.app_servers))
    stack = HostedStack(StackOptions(site=args.site, https_port=args.https_port, app_ports=ports,
                                     turn_port=args.turn_port, listen_ip=args.listen_ip))
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        stack.start()
    except StackError as exc:
        stack.stop()
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"WebTube is served at {stack.url} (logs in {stack.state_dir / 'logs'}); Ctrl-C stops it.", flush=True)
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()
    return 0
