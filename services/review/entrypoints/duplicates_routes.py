"""Duplicate detection's routes and event handlers, mixed into the review service."""

from __future__ import annotations


class DuplicateRoutes:
    pass
