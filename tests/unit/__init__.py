"""CPython unit tests (no browser)."""
