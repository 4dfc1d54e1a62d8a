"""The optional FaceNet embedder: loads from weights/, and says which file it wants when it can't."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from core.faces.errors import ModelUnavailable
from core.faces.facenet_embedder import WEIGHTS_FILE, FacenetEmbedder


def test_missing_weights_offline_name_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    monkeypatch.setenv("https_proxy", "http://127.0.0.1:9")  # nothing listens there: the download fails at once
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    with pytest.raises(ModelUnavailable, match=WEIGHTS_FILE):
        FacenetEmbedder(weights_dir=tmp_path)


def test_corrupt_weights_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / WEIGHTS_FILE).write_bytes(b"not a state dict")
    with pytest.raises(ModelUnavailable, match="not a readable"):
        FacenetEmbedder(weights_dir=tmp_path)


def test_weights_in_the_folder_are_loaded_and_embed(tmp_path: Path) -> None:
    """A state dict of the right shape (here freshly initialised, as no trained file may be downloaded)."""
    from facenet_pytorch import InceptionResnetV1

    torch.manual_seed(0)
    state = InceptionResnetV1(pretrained=None, classify=False).eval().state_dict()
    torch.save(state, tmp_path / WEIGHTS_FILE)
    embedder = FacenetEmbedder(weights_dir=tmp_path)
    chips = np.random.default_rng(0).integers(0, 255, (2, 160, 160, 3), dtype=np.uint8)
    vectors = embedder.embed(chips)
    assert vectors.shape == (2, 512)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert embedder.embed(chips[:0]).shape == (0, 512)
