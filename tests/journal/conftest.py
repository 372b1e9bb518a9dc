"""The journal and store tests use the real-store fixtures of ``tests/conftest.py``
(``sqlite_url``, ``pg_cluster``, ``pg_url``, ``store_url``)."""
