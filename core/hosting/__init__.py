"""Hosting WebTube for others: WebRTC relay credentials and what a browser needs to be given the camera."""
