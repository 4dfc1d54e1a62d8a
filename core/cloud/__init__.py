"""Photo albums imported from the cloud: Yandex.Disk public links and VK albums.

A pasted link picks its adapter (`links.py`); the adapter lists the photos through the provider's API
(`yandex_disk.py`, `vk.py`), every request through the guarded fetcher of core/videos (`http.py`); the
"cloud_import" job (`importer.py`) downloads each photo and records it with the studio's importer.
"""
