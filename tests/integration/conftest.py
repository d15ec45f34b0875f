"""Fixtures for tests that drive a real gunicorn: see harness.py."""

from tests.integration.harness import served_database, server

__all__ = ["served_database", "server"]
