"""The HTTP API (`python -m core api`): other programs use the studio and the face engine with an API key.

The routes only translate HTTP to the same `core` services the pages call; ownership, caps and error
wording stay in those services.
"""
