"""The one face engine: images in, faces (box, landmarks, quality, chip, embedding) out."""
