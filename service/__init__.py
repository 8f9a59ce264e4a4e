"""Margin: a self-hosted comment service."""

__version__ = "0.1.0"
