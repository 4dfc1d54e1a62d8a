"""WebTube's core: services, storage and the face engine, importable without Streamlit."""
