"""Face samples another face model made: never compared, and reported to their owner with a way out.

Distances from different models mean nothing to each other (dlib's and SFace's vectors are both
128-D, so the length cannot tell them apart: the model's name does). Sign-in and enrolment read
only samples of the configured embedder (`enrolment.gallery`); when WEBTUBE_EMBEDDER changes, the
older samples stay in the database unused, and this tells the person so, with the fix: delete the
face data and enrol again. Sign-in samples keep no photo unless the person opted in, so there is
nothing to re-embed them from.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select

from core.faces.engine import get_engine
from core.storage.database import session_scope
from core.storage.models import FaceSample


@dataclass(frozen=True)
class StaleSamples:
    """How many of an account's samples the configured model cannot use, and which models made them."""

    count: int
    models: tuple[str, ...]
    current: str

    @property
    def message(self) -> str:
        """One sentence for the profile, empty when every sample is usable."""
        if not self.count:
            return ""
        some = "Your face sample was" if self.count == 1 else f"{self.count} of your face samples were"
        return (
            f"{some} made by another face model ({', '.join(self.models)}) and cannot be used to sign in "
            f"since this site switched to {self.current}: delete your face data below and enrol again."
        )


def stale_samples(user_id: int) -> StaleSamples:
    """The account's samples whose model (name and size) differs from the configured embedder's."""
    embedder = get_engine().embedder
    other = or_(FaceSample.embedder != embedder.name, FaceSample.dim != embedder.dim)
    with session_scope() as session:
        rows = session.execute(
            select(FaceSample.embedder, func.count())
            .where(FaceSample.user_id == user_id, other)
            .group_by(FaceSample.embedder)
            .order_by(FaceSample.embedder)
        ).all()
    return StaleSamples(sum(count for _, count in rows), tuple(name for name, _ in rows), embedder.name)
