"""Optional embedder: facenet-pytorch's InceptionResnetV1 trained on VGGFace2 (512-D, unit length).

Its weights do not ship in the wheel: they are read from `weights/` or, when online, fetched by
facenet-pytorch itself and then kept in `weights/` so the next start works offline.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import torch

from core.faces.errors import ModelUnavailable

WEIGHTS_FILE = "20180402-114759-vggface2.pt"


def _build(weights_dir: Path) -> torch.nn.Module:
    from facenet_pytorch import InceptionResnetV1

    path = weights_dir / WEIGHTS_FILE
    if path.is_file():
        model = InceptionResnetV1(pretrained=None, classify=False)
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
            state = {key: value for key, value in state.items() if not key.startswith("logits.")}
            model.load_state_dict(state)
        except (OSError, RuntimeError, KeyError, ValueError, pickle.UnpicklingError) as exc:
            raise ModelUnavailable(f"{path} is not a readable FaceNet VGGFace2 state dict ({exc}).") from exc
        return model
    try:
        model = InceptionResnetV1(pretrained="vggface2", classify=False)
    except Exception as exc:  # facenet-pytorch raises whatever urllib/torch.hub raise when offline
        raise ModelUnavailable(
            f"The FaceNet embedder needs {WEIGHTS_FILE} in {weights_dir} and it could not be downloaded "
            f"({type(exc).__name__}). Put the file there, or use WEBTUBE_EMBEDDER=dlib."
        ) from exc
    weights_dir.mkdir(parents=True, exist_ok=True)
    state = {key: value for key, value in model.state_dict().items() if not key.startswith("logits.")}
    torch.save(state, path)
    return model


class FacenetEmbedder:
    """InceptionResnetV1 on 160x160 chips, standardised as facenet-pytorch does ((x - 127.5) / 128)."""

    name = "facenet"
    dim = 512
    chip_size = 160

    def __init__(self, device: torch.device | str = "cpu", weights_dir: Path | None = None) -> None:
        from core.config import get_settings

        self.device = torch.device(device)
        self.model = _build(weights_dir or get_settings().weights_dir).eval().to(self.device)

    def embed(self, chips: np.ndarray) -> np.ndarray:
        """(N,160,160,3) uint8 RGB -> (N,512) float32 unit vectors."""
        if len(chips) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        batch = torch.from_numpy(np.ascontiguousarray(chips)).to(self.device).permute(0, 3, 1, 2).float()
        with torch.inference_mode():
            out = self.model((batch - 127.5) / 128.0)
        return out.float().cpu().numpy()
