"""The profile page through Streamlit's AppTest: avatar, display name, face sign-in place, my videos."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from core.accounts.api_keys import holder_of, list_keys
from core.accounts.users import UserInfo, get_user, register
from core.videos.sharing import get_video, share_video, videos_of
from tests.support.app_driver import button, open_app, texts, widget


def _user() -> UserInfo:
    return register("Ann", "ann@example.com", "a long enough password", "a long enough password")


def _upload(at: AppTest, name: str, data: bytes, mime: str) -> AppTest:
    widget(at, "file_uploader", "New picture (JPG, PNG or WEBP)").upload(name, data, mime)
    button(at, "Save picture").click()
    return at.run()


def test_upload_an_avatar_and_see_it_in_the_sidebar(site: Path, faces_dir: Path) -> None:
    user = _user()
    at = open_app(user.id, "pages/profile.py")
    assert texts(at, "caption")[0] == "No picture yet."
    _upload(at, "me.jpg", (faces_dir / "people/kit_harington/kit_harington_2.jpg").read_bytes(), "image/jpeg")
    assert not at.exception
    assert texts(at, "success") == ["Your picture is saved."]
    assert len(at.sidebar.get("image")) == 1
    assert get_user(user.id).avatar_path  # type: ignore[union-attr]
    button(at, "Remove picture").click()
    at.run()
    assert texts(at, "success") == ["Your picture is removed."]
    assert len(at.sidebar.get("image")) == 0


def test_a_non_image_avatar_is_refused_with_a_message(site: Path) -> None:
    user = _user()
    at = open_app(user.id, "pages/profile.py")
    _upload(at, "cv.jpg", b"%PDF-1.7\n%fake resume\n", "image/jpeg")
    assert texts(at, "error") == ["This file is a PDF document, not an image. Use JPG, PNG or WEBP."]
    assert get_user(user.id).avatar_path is None  # type: ignore[union-attr]


def test_change_the_display_name(site: Path) -> None:
    user = _user()
    at = open_app(user.id, "pages/profile.py")
    widget(at, "text_input", "Display name").input("Ann B. Example")
    button(at, "Save name").click()
    at.run()
    assert texts(at, "success") == ["Your name is saved."]
    assert texts(at.sidebar, "markdown") == ["Signed in as **Ann B\\. Example**"]
    widget(at, "text_input", "Display name").input("")
    button(at, "Save name").click()
    at.run()
    assert texts(at, "error") == ["Please enter a display name."]


def test_the_face_sign_in_section_is_in_place(site: Path) -> None:
    at = open_app(_user().id, "pages/profile.py")
    assert "Face sign-in" in texts(at, "subheader")


def test_my_videos_newest_first_edit_and_delete(site: Path) -> None:
    user = _user()
    older = share_video(user.id, "http://127.0.0.1:9/older", "first words", ["music"], title="Older one")
    newer = share_video(user.id, "http://127.0.0.1:9/newer", "", [], title="Newer one")
    at = open_app(user.id, "pages/profile.py")
    assert [e.label.split(" · ")[0] for e in at.expander] == ["Newer one", "Older one"]

    older_form = at.expander[1]
    widget(older_form, "text_area", "Comment").input("<b>edited</b> words")
    widget(older_form, "multiselect", "Categories").set_value(["music", "travel"])
    button(older_form, "Save changes").click()
    at.run()
    assert texts(at, "success") == ["Saved “Older one”."]
    edited = get_video(older.id)
    assert edited.comment == "<b>edited</b> words"
    assert [c.slug for c in edited.card.categories] == ["music", "travel"]

    widget(at.expander[1], "text_input", "Title").input("")
    button(at.expander[1], "Save changes").click()
    at.run()
    assert texts(at, "error") == ["Please give the video a title."]

    button(at.expander[0], "Delete this video").click()
    at.run()
    assert texts(at, "warning") == ["Delete this video for good? Its page goes too."]
    button(at.expander[0], "Keep it").click()
    at.run()
    assert len(videos_of(user.id)) == 2
    button(at.expander[0], "Delete this video").click()
    at.run()
    button(at.expander[0], "Yes, delete it").click()
    at.run()
    assert texts(at, "success") == ["Deleted “Newer one”."]
    assert [v.card.id for v in videos_of(user.id)] == [older.id]
    assert newer.id not in [v.card.id for v in videos_of(user.id)]


def test_an_api_key_is_made_shown_once_listed_by_prefix_and_revoked(site: Path) -> None:
    user = _user()
    at = open_app(user.id, "pages/profile.py")
    widget(at, "text_input", "Key name").input("photo sync")
    widget(at, "radio", "Scope").set_value("Read and write (also import, change, delete)")
    widget(at, "text_input", "Your password").input("not my password at all")
    button(at, "Make a key").click()
    at.run()
    assert texts(at, "error") == ["That is not your current password."] and list_keys(user.id) == []
    widget(at, "text_input", "Key name").input("photo sync")
    widget(at, "radio", "Scope").set_value("Read and write (also import, change, delete)")
    widget(at, "text_input", "Your password").input("a long enough password")
    button(at, "Make a key").click()
    at.run()
    token = at.code[0].value
    holder = holder_of(token)
    assert holder is not None and holder.user_id == user.id and holder.scopes == {"read", "write"}
    assert [k.prefix for k in list_keys(user.id)] == [token[:10]]
    button(at, "I have copied it").click()
    at.run()
    assert not at.code and token not in str(at.markdown)  # never shown again
    listed = [m for m in texts(at, "markdown") if "photo sync" in m]
    assert listed and token[:10] in listed[0] and "read and write" in listed[0]
    button(at, "Revoke").click()
    at.run()
    assert any("is revoked" in message for message in texts(at, "success"))
    assert holder_of(token) is None and "revoked" in next(m for m in texts(at, "markdown") if "photo sync" in m)
    widget(at, "text_input", "Key name").input("   ")
    widget(at, "text_input", "Your password").input("a long enough password")
    button(at, "Make a key").click()
    at.run()
    assert texts(at, "error") == ["Give the key a name, such as the program that will use it."]
