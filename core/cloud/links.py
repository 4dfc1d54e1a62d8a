"""Which adapter a pasted link belongs to: Yandex.Disk public links, VK albums (with a token), nothing else."""

from __future__ import annotations

from core.cloud import vk, yandex_disk
from core.cloud.errors import CloudError
from core.cloud.items import CloudSource

UNSUPPORTED = ("Paste a Yandex.Disk public link (https://disk.yandex.ru/d/...) or a VK album link "
               "(https://vk.com/album<owner>_<album>).")


def looks_like_link(text: str) -> bool:
    """A web link rather than a path: what the command line's `import` tells apart."""
    return text.strip().lower().startswith(("http://", "https://"))


def needs_token(link: str) -> bool:
    """Whether the link's provider needs an access token (VK does; Yandex.Disk's public links do not)."""
    return vk.parse(link) is not None


def open_link(link: str, token: str | None = None) -> CloudSource:
    """The adapter for `link`; raises CloudError for an unknown link, or a VK link without a token."""
    if (public := yandex_disk.parse(link)) is not None:
        return yandex_disk.YandexDiskFolder(public)
    if (ref := vk.parse(link)) is not None:
        if not (token or "").strip():
            raise CloudError("bad_token", "A VK album needs an access token with the photos permission; "
                                          "give one with the link.")
        return vk.VkAlbums(ref, token.strip())
    raise CloudError("unsupported", UNSUPPORTED)
