"""How smoothly a camera view's <video> plays in Chromium: the same measurement for every live benchmark."""

from __future__ import annotations

# presentedFrames counts frames put on screen even when callbacks coalesce on a busy main thread;
# totalVideoFrames counts frames that arrived from the server and were decoded.
# Evaluated in the component's frame with [milliseconds]; returns [received fps, presented fps].
PREVIEW_FPS_JS = """async ([ms]) => {
    const video = document.querySelector('video');
    let first = null, last = null;
    const tick = (now, meta) => { first = first || meta; last = meta; video.requestVideoFrameCallback(tick); };
    video.requestVideoFrameCallback(tick);
    const before = video.getVideoPlaybackQuality().totalVideoFrames;
    await new Promise(r => setTimeout(r, ms));
    const received = video.getVideoPlaybackQuality().totalVideoFrames - before;
    const span = (last.expectedDisplayTime - first.expectedDisplayTime) / 1000;
    return [received / (ms / 1000), (last.presentedFrames - first.presentedFrames) / span];
}"""
