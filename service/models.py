"""Every table, imported in one place so the metadata (and Alembic) sees them all."""

from service.comments.models import Comment, CommentFlag, IdempotencyRecord, RateEvent, Thread
from service.moderators.models import Moderator, ModeratorSite
from service.privacy.models import PiiAccess
from service.review.models import ModerationEvent, SpamFeedback
from service.sites.models import Site

__all__ = [
    "Comment",
    "CommentFlag",
    "IdempotencyRecord",
    "ModerationEvent",
    "Moderator",
    "ModeratorSite",
    "PiiAccess",
    "RateEvent",
    "Site",
    "SpamFeedback",
    "Thread",
]
