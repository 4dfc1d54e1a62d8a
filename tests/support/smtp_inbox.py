"""A real SMTP server on a loopback port (aiosmtpd) that keeps what it receives, for the reset-email tests."""

from __future__ import annotations

import email
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default
from typing import Any

from aiosmtpd.controller import Controller

from tests.support.app_server import free_port

LINK = re.compile(r"https?://\S+")


@dataclass
class Inbox:
    """aiosmtpd's handler: every message accepted, parsed and kept in arrival order."""

    host: str = "127.0.0.1"
    port: int = 0
    messages: list[EmailMessage] = field(default_factory=list)
    _arrived: threading.Condition = field(default_factory=threading.Condition)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=default)
        with self._arrived:
            self.messages.append(message)  # type: ignore[arg-type]
            self._arrived.notify_all()
        return "250 Message accepted"

    def wait(self, count: int = 1, timeout_s: float = 30) -> list[EmailMessage]:
        """The first `count` messages, once they have arrived."""
        deadline = time.monotonic() + timeout_s
        with self._arrived:
            while len(self.messages) < count:
                left = deadline - time.monotonic()
                assert left > 0, f"{len(self.messages)} of {count} emails arrived"
                self._arrived.wait(left)
            return self.messages[:count]

    @property
    def env(self) -> dict[str, str]:
        """Settings pointing the app at this server (plain SMTP on loopback: no STARTTLS, no login)."""
        return {"WEBTUBE_SMTP_HOST": self.host, "WEBTUBE_SMTP_PORT": str(self.port), "WEBTUBE_SMTP_STARTTLS": "false",
                "WEBTUBE_SMTP_FROM": "webtube@example.org"}


def link_in(message: EmailMessage) -> str:
    """The one link in a message's text."""
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    [link] = LINK.findall(body.get_content())
    return link


@contextmanager
def smtp_inbox() -> Iterator[Inbox]:
    inbox = Inbox(port=free_port())
    controller = Controller(inbox, hostname=inbox.host, port=inbox.port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()
