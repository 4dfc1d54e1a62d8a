"""The studio's frozen records as JSON: dataclasses in, plain dicts with ISO times out."""

from __future__ import annotations

from dataclasses import asdict, is_dataclass
from typing import Any

from fastapi.encoders import jsonable_encoder


def as_json(record: Any) -> Any:
    """A record, or a list of them, ready for a JSON response."""
    if isinstance(record, list):
        return [as_json(item) for item in record]
    return jsonable_encoder(asdict(record) if is_dataclass(record) else record)
