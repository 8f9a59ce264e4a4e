"""Threads and comments: the public, widget-facing part of Margin."""
