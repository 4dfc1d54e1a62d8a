"""ROC and DET curves as PNG, one line per embedder, for the evaluation report.

Why matplotlib (headless Agg backend): log axes, legends and antialiased lines from a
maintained library, where drawing them with OpenCV would be a page of our own code.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

Curves = dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]  # name -> thresholds, FAR, FRR
FLOOR = 1e-5  # rates of 0 are drawn here, below any measurable rate of the data sets we use


def plot_roc(curves: Curves, path: Path) -> None:
    """True-accept rate against false-accept rate (log scale)."""
    figure, axes = plt.subplots(figsize=(6, 4.5), dpi=100)
    for name, (_, far, frr) in curves.items():
        axes.step(np.maximum(far, FLOOR), 1.0 - frr, where="post", label=name)
    axes.set(xscale="log", xlim=(FLOOR, 1.0), ylim=(0.0, 1.02), xlabel="false-accept rate (strangers let through)",
             ylabel="true-accept rate (same person accepted)", title="ROC")
    _finish(figure, axes, path)


def plot_det(curves: Curves, path: Path) -> None:
    """False-reject rate against false-accept rate, both on log scales."""
    figure, axes = plt.subplots(figsize=(6, 4.5), dpi=100)
    for name, (_, far, frr) in curves.items():
        axes.step(np.maximum(far, FLOOR), np.maximum(frr, FLOOR), where="post", label=name)
    axes.set(xscale="log", yscale="log", xlim=(FLOOR, 1.0), ylim=(FLOOR, 1.0),
             xlabel="false-accept rate", ylabel="false-reject rate", title="DET")
    _finish(figure, axes, path)


def _finish(figure: plt.Figure, axes: plt.Axes, path: Path) -> None:
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(loc="best")
    figure.tight_layout()
    partial = path.with_suffix(".part.png")
    figure.savefig(partial)
    plt.close(figure)
    partial.replace(path)
