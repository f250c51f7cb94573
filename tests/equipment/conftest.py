"""Fixtures of the equipment tests: the API's own (a real uvicorn on this test's Redis prefix and
PostgreSQL schema)."""

from __future__ import annotations

from tests.api.conftest import api_server

__all__ = ["api_server"]
