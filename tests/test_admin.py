"""The admin's core functions: only admins may call them, the site keeps one admin, and each does what it says."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.accounts import admin, sessions
from core.accounts.admin import LastAdmin, NotAdmin, ReasonRequired
from core.accounts.api_keys import create_key, holder_of
from core.accounts.credentials import WrongPassword, confirm_session, session_confirmed
from core.accounts.notices import dismiss, notices_of
from core.accounts.resets import account_for
from core.accounts.users import AccountLocked, InvalidCredentials, attempts_left, get_user, register, sign_in
from core.videos.sharing import share_video, videos_of
from tests.support.app_driver import button, fill, open_app, submit, texts
from tests.support.media_server import MediaServer

pytestmark = pytest.mark.both_databases

PASSWORD = "a long enough password"


def _accounts() -> tuple[int, int]:
    boss = register("Boss", "boss@example.com", PASSWORD, PASSWORD)
    ann = register("Ann", "ann@example.com", PASSWORD, PASSWORD)
    assert boss.is_admin and not ann.is_admin
    return boss.id, ann.id


def test_only_admins_may_act(site: Path) -> None:
    boss, ann = _accounts()
    for call in (
        lambda: admin.search_accounts(ann),
        lambda: admin.unlock_account(ann, boss),
        lambda: admin.set_admin(ann, ann, True),
        lambda: admin.sign_out_everywhere(ann, boss),
        lambda: admin.remove_account(ann, boss),
        lambda: admin.issue_reset_link(ann, boss),
        lambda: admin.search_videos(ann),
        lambda: admin.remove_video(ann, 1, "spam"),
        lambda: admin.face_samples(ann, boss),
        lambda: admin.clear_face_data(ann, boss),
    ):
        with pytest.raises(NotAdmin, match=r"Only admins can do this\."):
            call()
    assert get_user(boss).is_admin and not get_user(ann).is_admin


def test_search_promote_demote_and_the_last_admin_stays(site: Path) -> None:
    boss, ann = _accounts()
    assert [row.email for row in admin.search_accounts(boss)] == ["boss@example.com", "ann@example.com"]
    assert [row.email for row in admin.search_accounts(boss, " ANN ")] == ["ann@example.com"]
    assert admin.search_accounts(boss, "%") == []  # taken literally
    with pytest.raises(LastAdmin, match="only admin"):
        admin.set_admin(boss, boss, False)
    with pytest.raises(LastAdmin):
        admin.remove_account(boss, boss)
    admin.set_admin(boss, ann, True)
    admin.set_admin(boss, boss, False)  # another admin exists now
    assert get_user(ann).is_admin and not get_user(boss).is_admin
    with pytest.raises(NotAdmin):
        admin.set_admin(boss, boss, True)  # no longer an admin: cannot take it back
    with pytest.raises(LastAdmin):
        admin.set_admin(ann, ann, False)


def test_unlock_sign_out_everywhere_and_delete(site: Path) -> None:
    boss, ann = _accounts()
    for _ in range(5):
        with pytest.raises((InvalidCredentials, AccountLocked)):
            sign_in("ann@example.com", "wrong guess here")
    with pytest.raises(AccountLocked):
        sign_in("ann@example.com", PASSWORD)
    row = admin.search_accounts(boss, "ann")[0]
    assert row.locked_s > 0 and row.failures >= 5
    assert admin.unlock_account(boss, ann) >= 5
    assert admin.search_accounts(boss, "ann")[0].locked_s == 0
    sign_in("ann@example.com", PASSWORD)

    tokens = [sessions.create(ann, "password")[0] for _ in range(2)]
    key, _ = create_key(ann, "a program", "read write")
    assert admin.search_accounts(boss, "ann")[0].sessions == 2
    assert admin.sign_out_everywhere(boss, ann) == 2
    assert all(sessions.resolve(token) is None for token in tokens)
    assert holder_of(key) is None  # a taken-over account keeps no API key either

    gone = admin.remove_account(boss, ann)
    assert gone.email == "ann@example.com" and get_user(ann) is None


def test_a_removed_video_leaves_its_author_the_reason(site: Path, media_server: MediaServer) -> None:
    boss, ann = _accounts()
    card = share_video(ann, media_server.url("clip.mp4"), title="Loud clip")
    assert [row.title for row in admin.search_videos(boss, "ann")] == ["Loud clip"]
    with pytest.raises(ReasonRequired, match="Say why"):
        admin.remove_video(boss, card.id, "   ")
    assert admin.remove_video(boss, card.id, "Not a video:  it is an advert.") == "Loud clip"
    assert videos_of(ann) == []
    [notice] = notices_of(ann)
    assert notice.text == "An admin removed your video “Loud clip”. Reason: Not a video: it is an advert."
    dismiss(boss, notice.id)  # someone else's notice: nothing happens
    assert len(notices_of(ann)) == 1
    dismiss(ann, notice.id)
    assert notices_of(ann) == []


def test_a_reset_link_from_an_admin_opens_the_reset_for_that_account(site: Path) -> None:
    boss, ann = _accounts()
    token = admin.issue_reset_link(boss, ann)
    assert account_for(token).email == "ann@example.com"


def test_the_admin_screen_needs_the_password_once_per_session(site: Path) -> None:
    boss, _ = _accounts()
    token, _ = sessions.create(boss, "face")
    assert not session_confirmed(token)
    with pytest.raises(WrongPassword):
        confirm_session(token, "not the password")
    assert not session_confirmed(token)
    assert attempts_left("boss@example.com") == 4  # the wrong one counted like a sign-in
    confirm_session(token, PASSWORD)
    assert session_confirmed(token)
    other, _ = sessions.create(boss, "password")
    assert not session_confirmed(other)  # another sign-in confirms for itself


def test_attempts_left_counts_down_alike_for_known_and_unknown_emails(site: Path) -> None:
    _accounts()
    assert attempts_left("ann@example.com") == attempts_left("nobody@example.com") == 5
    for email in ("ann@example.com", "nobody@example.com"):
        for _ in range(3):
            with pytest.raises(InvalidCredentials):
                sign_in(email, "wrong guess here")
    assert attempts_left("ann@example.com") == attempts_left("nobody@example.com") == 2
    assert attempts_left("not an email") is None


def test_the_admin_page_refuses_members_and_asks_an_admin_for_the_password(site: Path) -> None:
    boss, ann = _accounts()
    at = open_app(ann, "pages/admin.py")
    assert texts(at, "error") == ["This page is for the site's admins; your account is not one."]
    assert not at.get("text_input")

    at = open_app(boss, "pages/admin.py", method="face")
    assert texts(at, "info") == ["Type your password to open the admin screen. It is asked once per sign-in."]
    submit(at, "Open the admin screen", {"Your password": "not it at all"})
    assert texts(at, "error") == ["That is not your current password."]
    submit(at, "Open the admin screen", {"Your password": PASSWORD})
    assert [e.label.split(" · ")[0] for e in at.expander] == ["Boss", "Ann"]
    fill(at, {"Search accounts by email or name": "ann"}).run()
    button(at, "Make a reset link").click()
    at.run()
    [link] = [c.value for c in at.code]
    assert account_for(link.rsplit("token=", 1)[1]).email == "ann@example.com"
