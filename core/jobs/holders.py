"""Who holds a running job, and whether that holder is gone (a dead process here, or a silent one anywhere).

A holder is `host:pid:token`; it refreshes the job's heartbeat every few seconds while it works.
"""

from __future__ import annotations

import os
import secrets
import socket
from datetime import datetime, timedelta

HEARTBEAT_S = 5.0
STALE_S = 60.0  # a running job whose holder has been silent this long is taken over
HOST = socket.gethostname()


def new_identity() -> str:
    return f"{HOST}:{os.getpid()}:{secrets.token_hex(3)}"


def held_here(worker: str | None) -> bool:
    """Held by this very process (any of its runners)."""
    return worker is not None and worker.rpartition(":")[0] == f"{HOST}:{os.getpid()}"


def holder_gone(worker: str | None, heartbeat: datetime | None, now: datetime) -> bool:
    if not worker:
        return True
    host, _, rest = worker.partition(":")
    pid = rest.partition(":")[0]
    if host == HOST and pid.isdigit() and int(pid) != os.getpid():
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            pass
    return heartbeat is None or now - heartbeat > timedelta(seconds=STALE_S)
