"""Every table, imported in one place so the metadata (and Alembic) sees them all."""

from service.comments.models import Comment, IdempotencyRecord, Thread
from service.moderators.models import Moderator, ModeratorSite
from service.review.models import ModerationEvent
from service.sites.models import Site

__all__ = [
    "Comment",
    "IdempotencyRecord",
    "ModerationEvent",
    "Moderator",
    "ModeratorSite",
    "Site",
    "Thread",
]
