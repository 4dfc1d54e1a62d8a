"""WebTube's server: the Streamlit app (app.py) plus WebTube's own HTTP routes, on one port.

Run with `streamlit run serve.py` (what `make run` does). Streamlit finds the `st.App` below and
serves app.py exactly as `streamlit run app.py` would, with one more route: the "Save" links
(`core.videos.file_route`), which stream cached videos from disk instead of through Streamlit's
in-memory media store.
"""

from __future__ import annotations

import streamlit as st
from streamlit import config

from core.videos.file_route import file_routes

app = st.App("app.py", routes=file_routes(config.get_option("server.baseUrlPath")))
