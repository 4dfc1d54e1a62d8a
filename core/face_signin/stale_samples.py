"""Face samples the configured face model has no vector for: reported to their owner with a way out.

Distances from different models mean nothing to each other (dlib's and SFace's vectors are both
128-D, so the length cannot tell them apart: the model's name does). Sign-in and enrolment read
only samples of the configured embedder (`enrolment.gallery`). Enrolment stores each face once per
installed model, so after WEBTUBE_EMBEDDER changes those faces still sign in; faces enrolled before
that (or while the new model was not installed) have rows of other models only. Rows carry no link
between one face's models, but each enrolment adds one row to every installed model, so the faces
the configured model lacks are counted as how many more rows another model holds. Sign-in samples
keep no photo unless the person opted in, so there is nothing to re-embed them from: the person is
told to delete the face data and enrol again.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.face_signin.enrolment import rows_per_model
from core.faces.engine import get_engine
from core.storage.database import session_scope


@dataclass(frozen=True)
class StaleSamples:
    """How many of an account's faces the configured model cannot use, and which models made them."""

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
    """The account's faces with rows of another model (name and size) but none of the configured embedder's."""
    embedder = get_engine().embedder
    current = (embedder.name, embedder.dim)
    with session_scope() as session:
        counts = rows_per_model(session, user_id)
    usable = counts.get(current, 0)
    surplus = {model: count - usable for model, count in counts.items() if model != current and count > usable}
    return StaleSamples(max(surplus.values(), default=0), tuple(sorted({name for name, _ in surplus})), embedder.name)
