"""Spam scoring that runs inside Margin: no comment, e-mail or IP leaves the server.

A hashed-feature logistic regression ships as ``base_model.json.gz`` (plain JSON, trained from
the public data in ``datasets/``); each site adds its own sparse weight delta learned from its
moderators' decisions. See ``model.py`` for the API and ``README.md`` for the storage scheme.
"""

from service.spam.model import (
    ModelError,
    SiteModel,
    SpamModel,
    SpamScore,
    Update,
    load_model,
)

__all__ = ["ModelError", "SiteModel", "SpamModel", "SpamScore", "Update", "load_model"]
