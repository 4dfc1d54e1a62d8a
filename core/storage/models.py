"""SQLAlchemy 2.0 ORM models: the schema every service and migration agrees on.

Times are stored as naive UTC (SQLite has no time zones) and handed out as aware UTC
by `UtcDateTime`, so no caller ever compares a local time with a stored one.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Deterministic constraint names, so later Alembic revisions can alter them on SQLite (batch mode).
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC; refuses naive input so local times cannot sneak in."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC time (core.storage.models.utcnow)")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


video_categories = Table(
    "video_categories",
    Base.metadata,
    Column("video_id", ForeignKey("videos.id", ondelete="CASCADE"), primary_key=True),
    Column("category_id", ForeignKey("categories.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_video_categories_category_id_video_id", "category_id", "video_id"),  # a category's newest first
)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)  # normalised: trimmed, lower case
    password_hash: Mapped[str] = mapped_column(String(100))
    display_name: Mapped[str] = mapped_column(String(60))
    avatar_path: Mapped[str | None] = mapped_column(String(200))  # relative to the data directory
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    videos: Mapped[list[Video]] = relationship(
        back_populates="owner", cascade="all, delete-orphan", passive_deletes=True
    )
    face_samples: Mapped[list[FaceSample]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )
    sessions: Mapped[list[AuthSession]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )


class AuthSession(Base):
    """One signed-in browser: only the SHA-256 of its cookie's token is kept, so a leaked database signs nobody in."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # hex SHA-256 of the cookie's token
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    method: Mapped[str] = mapped_column(String(10))  # how it was opened: "password" or "face"
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)  # slides forward on use
    # when the account's password was typed again in this session (the admin screen asks once per session)
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    user: Mapped[User] = relationship(back_populates="sessions")


class LoginFailure(Base):
    """One failed sign-in; kept in the database so a lockout survives reruns and holds across servers."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_email_at", "email", "attempted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    attempted_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Category(Base):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)  # what links and query parameters carry
    name: Mapped[str] = mapped_column(String(60), unique=True)


class Video(Base):
    __tablename__ = "videos"
    __table_args__ = (
        # Same person, same video: refused by the database itself, so double clicks cannot race past a check.
        UniqueConstraint("owner_id", "canonical_url", name="uq_videos_owner_canonical"),
        Index("ix_videos_created_at_id", "created_at", "id"),
        Index("ix_videos_owner_id_created_at", "owner_id", "created_at", "id"),  # an author page, in page order
        # Word search on PostgreSQL (pg_trgm, migration 0009); SQLite has none: Alembic skips expression indexes it
        # cannot reflect there.
        *(
            Index(f"ix_videos_{column}_trgm", func.lower(text(column)).label(column), postgresql_using="gin",
                  postgresql_ops={column: "gin_trgm_ops"})
            for column in ("title", "comment")
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    original_url: Mapped[str] = mapped_column(String(2048))
    canonical_url: Mapped[str] = mapped_column(String(2048))
    site: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(300))
    thumbnail_url: Mapped[str | None] = mapped_column(String(2048))
    duration_s: Mapped[int | None] = mapped_column(Integer)
    uploader: Mapped[str | None] = mapped_column(String(200))
    media_url: Mapped[str | None] = mapped_column(String(2048))  # a direct file the browser can play, if any
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)  # as its site reports it; shown before a download
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    owner: Mapped[User] = relationship(back_populates="videos")
    categories: Mapped[list[Category]] = relationship(secondary=video_categories, order_by=Category.name)


class VideoCount(Base):
    """How many videos there are in all (kind "all", ref 0), in a category ("category", its id) or by an author
    ("author", their id), kept by triggers (migration 0009): numbering pages reads one row, not a million."""

    __tablename__ = "video_counts"

    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    ref: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    videos: Mapped[int] = mapped_column(BigInteger)


class VideoTerm(Base):
    """Inverted index of title and comment words: similar videos are found by SQL, not by scanning every video."""

    __tablename__ = "video_terms"

    term: Mapped[str] = mapped_column(String(40), primary_key=True)
    video_id: Mapped[int] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"), primary_key=True, index=True)


class FaceSample(Base):
    """A face embedding enrolled for face sign-in (filled by the face sign-in feature)."""

    __tablename__ = "face_samples"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    embedding: Mapped[bytes] = mapped_column(LargeBinary)  # float32 values, little-endian, `dim` of them
    embedder: Mapped[str] = mapped_column(String(40))
    dim: Mapped[int] = mapped_column(Integer)
    image_path: Mapped[str | None] = mapped_column(String(200))  # opt-in snapshot, relative to the data directory
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="face_samples")



class PasswordReset(Base):
    """A one-time password-reset link: only the SHA-256 of its token is kept, like a session's; used once, it goes."""

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Notice(Base):
    """A message for one account that waits until they read it (why an admin removed their video)."""

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

class ApiKey(Base):
    """A key another program signs requests with: only its SHA-256 is kept; the prefix names it in lists."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))  # the key's first characters, shown so a person can tell keys apart
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    scopes: Mapped[str] = mapped_column(String(40))  # "read" or "read write"
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


# The studio's and the video analysis's tables share this metadata; imported last: they build on the classes above.
from core.storage import studio_models, video_models  # noqa: E402, F401
