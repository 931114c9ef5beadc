"""The schema version this code writes: the number of the last migration in
`migrations.py` (kept here so opening a current database needs no sqlite-utils import)."""

SCHEMA_VERSION = 8
