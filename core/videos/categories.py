"""The fixed list of video categories, and loading it into the database idempotently.

The list here is the source of truth: adding a name makes it appear on the next start;
names are never removed automatically (videos may still use them).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.storage.models import Category

CATEGORIES: tuple[tuple[str, str], ...] = (
    ("music", "Music"),
    ("education", "Education"),
    ("gaming", "Gaming"),
    ("sports", "Sports"),
    ("news", "News and politics"),
    ("science-technology", "Science and technology"),
    ("travel", "Travel and events"),
    ("cooking", "Cooking and food"),
    ("comedy", "Comedy"),
    ("film-animation", "Film and animation"),
    ("autos", "Autos and vehicles"),
    ("pets-animals", "Pets and animals"),
    ("people-blogs", "People and blogs"),
    ("entertainment", "Entertainment"),
    ("howto-style", "How-to and style"),
    ("nonprofits", "Nonprofits and activism"),
    ("health-fitness", "Health and fitness"),
    ("art-design", "Art and design"),
    ("history", "History"),
    ("nature", "Nature and environment"),
)


def ensure_categories(session: Session) -> int:
    """Insert the categories the table lacks; returns how many were added (0 on every later start)."""
    known = set(session.scalars(select(Category.slug)))
    missing = [Category(slug=slug, name=name) for slug, name in CATEGORIES if slug not in known]
    session.add_all(missing)
    return len(missing)
