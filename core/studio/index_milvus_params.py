"""Which Milvus index to build and how to search it, from the settings: HNSW, IVF_PQ or FLAT.

Why a module of its own: the choice has rules the backend should not carry inline. IVF_PQ's sub-vectors must
divide the embedding size; Milvus Lite (a file path) has no product quantisation, so IVF_PQ there is refused
with a message naming the setting instead of silently scanning flat. HNSW keeps the full vectors, so its
candidates need only a small margin; IVF_PQ ranks by coarse codes, so it fetches `refine` times the asked
number and the exact vectors (the database's) put them in order (index_milvus.py).
"""

from __future__ import annotations

from core.config import Settings
from core.studio.errors import StudioError

MARGIN = 32  # extra candidates fetched beyond top-K, then measured exactly on the database's vectors
MAX_LIMIT = 16_384  # Milvus refuses a larger search limit


class MilvusSettingsError(StudioError):
    """The Milvus settings ask for something this Milvus cannot do."""


def is_lite(uri: str) -> bool:
    """A file path (not a network address) opens Milvus Lite, embedded in this process."""
    return not uri.startswith(("http://", "https://", "tcp://", "grpc://"))


def check(settings: Settings, uri: str) -> None:
    """Refuse, before anything is written, an index type the target cannot build."""
    if settings.milvus_index == "IVF_PQ" and is_lite(uri):
        raise MilvusSettingsError(
            "WEBTUBE_MILVUS_INDEX=IVF_PQ needs a Milvus server: Milvus Lite (WEBTUBE_MILVUS_URI is a file path) "
            "has no product quantisation. Set WEBTUBE_MILVUS_URI=http://host:19530, or use HNSW or FLAT.")


def build(settings: Settings, dim: int) -> dict:
    """The index parameters for a new collection of `dim`-value vectors."""
    kind = settings.milvus_index
    if kind == "HNSW":
        return {"M": settings.milvus_hnsw_m, "efConstruction": settings.milvus_hnsw_ef_construction}
    if kind == "IVF_PQ":
        if dim % settings.milvus_pq_m:
            raise MilvusSettingsError(
                f"WEBTUBE_MILVUS_PQ_M={settings.milvus_pq_m} must divide the embedding size ({dim} values).")
        return {"nlist": settings.milvus_ivf_nlist, "m": settings.milvus_pq_m, "nbits": settings.milvus_pq_nbits}
    return {}


def candidates(settings: Settings, top_k: int) -> int:
    """How many hits to ask Milvus for, so that the exact re-ranking can still find the true top-K."""
    wanted = top_k * settings.milvus_pq_refine if settings.milvus_index == "IVF_PQ" else top_k + MARGIN
    return min(max(wanted, top_k + MARGIN), MAX_LIMIT)


def search(settings: Settings, limit: int) -> dict:
    """The search parameters for `limit` hits (HNSW's breadth is at least the number asked)."""
    if settings.milvus_index == "HNSW":
        return {"metric_type": "L2", "params": {"ef": max(settings.milvus_hnsw_ef, limit)}}
    if settings.milvus_index == "IVF_PQ":
        return {"metric_type": "L2", "params": {"nprobe": min(settings.milvus_ivf_nprobe, settings.milvus_ivf_nlist)}}
    return {"metric_type": "L2", "params": {}}
