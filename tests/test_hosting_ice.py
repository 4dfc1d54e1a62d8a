"""Short-lived relay credentials, checked by a real coturn; the camera's secure-context rule."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from core.config import get_settings
from core.hosting.ice import rtc_configuration, turn_credentials
from core.hosting.secure_context import camera_refusal
from core.hosting.stack import DEPLOY
from tests.support.app_server import free_port


@pytest.fixture(scope="module")
def relay(tmp_path_factory: pytest.TempPathFactory):
    """coturn with the project's configuration and a secret, on a loopback port."""
    folder = tmp_path_factory.mktemp("turn")
    port = free_port()
    process = subprocess.Popen(
        ["turnserver", "-c", str(DEPLOY / "turnserver.conf"), "--static-auth-secret", "s3cret", "--listening-ip",
         "127.0.0.1", "--relay-ip", "127.0.0.1", "--listening-port", str(port), "--allowed-peer-ip", "127.0.0.1",
         "--allow-loopback-peers", "--no-tls", "--no-dtls", "--log-file", str(folder / "turn.log"), "--simple-log",
         "--pidfile", str(folder / "pid")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.5)
    yield port, folder / "turn.log"
    process.terminate()
    process.wait(10)


def _allocate(port: int, username: str, password: str) -> subprocess.CompletedProcess:
    """A TURN allocation and a few relayed packets with turnutils_uclient (coturn's own client)."""
    return subprocess.run(["turnutils_uclient", "-u", username, "-w", password, "-p", str(port), "-y", "-n", "3",
                           "-m", "1", "-l", "100", "127.0.0.1"], capture_output=True, text=True, timeout=30)


def test_the_relay_accepts_a_minted_credential_until_it_expires(relay: tuple[int, Path]) -> None:
    port, log = relay
    fresh = _allocate(port, *turn_credentials("s3cret", 600))
    assert "Total lost packets 0" in fresh.stdout + fresh.stderr
    expired = _allocate(port, *turn_credentials("s3cret", 60, now=time.time() - 3600))
    assert "Cannot complete Allocation" in expired.stdout + expired.stderr
    forged = _allocate(port, *turn_credentials("not the secret", 600))
    assert "Cannot complete Allocation" in forged.stdout + forged.stderr
    assert "check_stun_auth: Cannot find credentials" in log.read_text(errors="replace")


def test_the_browser_gets_minted_credentials_never_the_secret(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    relay = "turn:webtube.test:3478?transport="
    monkeypatch.setenv("WEBTUBE_TURN_URLS", f"{relay}udp, {relay}tcp")
    monkeypatch.setenv("WEBTUBE_TURN_SECRET", "s3cret")
    monkeypatch.setenv("WEBTUBE_ICE_SERVERS", '[{"urls": "stun:stun.example.org:3478"}]')
    monkeypatch.setenv("WEBTUBE_ICE_TRANSPORT_POLICY", "relay")
    get_settings.cache_clear()
    config = rtc_configuration()
    stun, turn = config["iceServers"]
    assert stun == {"urls": "stun:stun.example.org:3478"} and config["iceTransportPolicy"] == "relay"
    assert turn["urls"] == ["turn:webtube.test:3478?transport=udp", "turn:webtube.test:3478?transport=tcp"]
    expiry = int(turn["username"].split(":")[0])
    assert 590 <= expiry - time.time() <= 600 and "s3cret" not in str(config)


@pytest.mark.parametrize(("url", "refused"), [
    ("https://webtube.test/sign_in", False), ("http://localhost:8501/", False), ("http://127.0.0.1:8501/", False),
    ("http://webtube.localhost/", False), (None, False), ("http://webtube.test:8080/sign_in", True),
    ("http://192.168.1.20:8501/", True),
])
def test_the_camera_is_refused_only_outside_a_secure_context(url: str | None, refused: bool) -> None:
    sentence = camera_refusal(url)
    assert (sentence is not None) is refused
    if refused:
        assert sentence.startswith("Browsers only let a page use the camera over HTTPS") and "open https://" in sentence
