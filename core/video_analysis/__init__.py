"""Video face analysis: who appears in a video, and when (decode, detect, track, merge, identify, annotate)."""
