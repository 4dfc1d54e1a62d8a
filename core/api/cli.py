"""`python -m core api [--host H] [--port P]`: serve the HTTP API with uvicorn beside the Streamlit app.

It opens the same database and data folder as the app (the same settings), and runs jobs it starts in
its own process unless WEBTUBE_BROKER_URL hands them to workers.
"""

from __future__ import annotations

import argparse

import uvicorn

from core.config import get_settings


def main(argv: list[str]) -> int:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m core api", description="Serve the HTTP API.")
    parser.add_argument("--host", default=settings.api_host, help=f"address to listen on (default {settings.api_host})")
    parser.add_argument("--port", type=int, default=settings.api_port, help=f"port (default {settings.api_port})")
    args = parser.parse_args(argv)
    uvicorn.run("core.api.app:create_app", factory=True, host=args.host, port=args.port, log_level="warning",
                server_header=False)
    return 0
