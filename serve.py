"""WebTube's server: the Streamlit app (app.py) plus WebTube's own HTTP routes, on one port.

Run with `streamlit run serve.py` (what `make run` does). Streamlit finds the `st.App` below and
serves app.py exactly as `streamlit run app.py` would, with one more route: the "Save" links
(`core.videos.file_route`), which stream cached videos from disk instead of through Streamlit's
in-memory media store; and app.py routes every URL from the very first request (below).
"""

from __future__ import annotations

import streamlit as st
from streamlit import config
from streamlit.runtime.pages_manager import PagesManager

from core.monitoring import start_monitoring
from core.videos.file_route import file_routes

# app.py's st.navigation is the only router. Left alone, Streamlit sees the `pages/` folder and, until
# the first session of a fresh process has run app.py, serves a URL such as /sign_in by running that
# page file by itself (no navigation, no sidebar, no session cookie): with several app servers, a
# person moved to a fresh one would meet that. Streamlit sets this same flag itself once
# st.navigation runs; here it is set before any session starts.
PagesManager.uses_pages_directory = False

start_monitoring("app")  # JSON log lines, the System page's sampler, /metrics on WEBTUBE_METRICS_PORT
app = st.App("app.py", routes=file_routes(config.get_option("server.baseUrlPath")))
