"""Duplicate detection's part of the review service: its background checks and its HTTP schemas."""
