"""What every cloud adapter hands the import: photos with a stable id, a name, a size and a download link.

Why a Protocol: the import job needs only `list_items()`; each provider's paging, sub-folders and errors
stay inside its adapter, and a new provider is one more module with the same method.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class CloudItem:
    """One photo in a cloud album."""

    source_id: str  # stable across imports ("yadisk:<resource_id>", "vk:<owner>_<id>"): re-imports skip it
    name: str  # the file name people know it by
    size: int | None  # bytes, when the provider says
    url: str  # where its bytes are downloaded from
    origin: str  # where it sits, for the report ("Summer/beach.jpg", "vk.com/photo1_2")
    sha256: str | None = None  # when the provider says: a photo already in the library is not downloaded again


class CloudSource(Protocol):
    """A cloud album (or folder) behind one link."""

    link: str  # the link as pasted, normalised: the album's `source_ref`
    default_album: str  # the album name when the person gives none

    def list_items(self) -> Iterator[CloudItem]:
        """Every photo, in the provider's order; raises CloudError with one sentence when the listing fails."""
        ...
