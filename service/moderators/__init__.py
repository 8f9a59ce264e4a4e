"""Moderators: API tokens scoped to sites, with an optional personal-data scope."""
