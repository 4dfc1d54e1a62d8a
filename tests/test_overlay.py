"""The preview overlay: a mirrored self-view moves the boxes with the picture and keeps the camera frame intact."""

from __future__ import annotations

import numpy as np

from core.faces.overlay import GREEN, Overlay, draw_overlay


def test_mirrored_preview_moves_boxes_with_the_picture_and_leaves_the_camera_frame_alone() -> None:
    camera = np.zeros((480, 640, 3), np.uint8)
    camera[:, :10] = 255  # a white stripe on the camera's left edge
    overlay = Overlay(boxes=(((20.0, 100.0, 120.0, 200.0), GREEN),))
    shown = draw_overlay(camera, overlay, mirror=True)
    assert (shown[:, -10:] == 255).all() and not shown[:, :10].any()  # the stripe is now on the right
    assert (shown[150, 520:620] == GREEN).all(axis=1).any()  # the box too: x 20..120 became 520..620
    assert not (shown[150, 20:120] == GREEN).all(axis=1).any()
    assert (camera[:, :10] == 255).all() and not (camera == GREEN).all(axis=2).any()  # the engine's frame is untouched


def test_arrow_and_ring_point_the_way_on_the_shown_preview() -> None:
    left = draw_overlay(np.zeros((480, 640, 3), np.uint8), Overlay(arrow=-1, colour=GREEN), mirror=True)
    ring = draw_overlay(np.zeros((480, 640, 3), np.uint8), Overlay(centre=True, colour=GREEN), mirror=True)
    row = 480 - 480 // 8
    wings = (left[row - 30 : row - 8] == GREEN).all(axis=2)  # above the shaft: only the arrow's head
    assert wings[:, 200:300].any() and not wings[:, 340:].any()  # it points to the screen's left
    assert (ring[row - 24 : row + 25, 295:345] == GREEN).all(axis=2).any() and not (ring[:, :200] == GREEN).any()
