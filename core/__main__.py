"""`python -m core GROUP ...`: the command line over the same services the pages use."""

from __future__ import annotations

import importlib
import sys

GROUPS = {
    "faces": "core.faces.cli",
    "users": "core.accounts.cli",
    "studio": "core.studio.cli",
    "video": "core.video_analysis.cli",
    "worker": "core.jobs.worker",
    "hosting": "core.hosting.cli",
    "api": "core.api.cli",
}


def main(argv: list[str] | None = None) -> int:
    """Dispatch to one group's `main(argv)`; each group parses its own arguments."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in GROUPS:
        print(f"usage: python -m core {{{','.join(GROUPS)}}} ...", file=sys.stderr)
        return 2
    module = importlib.import_module(GROUPS[args[0]])
    return int(module.main(args[1:]) or 0)


if __name__ == "__main__":
    sys.exit(main())
