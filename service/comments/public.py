"""Building the reader-facing view of comments: the only path from a row to a reader."""

from __future__ import annotations

from service.comments.models import Comment, CommentPublic, CommentStatus
from service.textcheck import readable

_REMOVED_BY = {
    "author": "deleted by its author",
    "moderator": "removed by a moderator",
    "system": "removed by the automatic moderation",
}


def removed_reason(comment: Comment) -> str:
    actor = str(comment.moderation.get("actor", "moderator"))
    base = _REMOVED_BY.get(actor, "removed by a moderator")
    category = comment.moderation.get("category")
    if comment.status == CommentStatus.SPAM:
        return f"{base}: spam"
    # readable(): a category stored before categories were checked may hold control characters.
    return f"{base}: {readable(category)}" if isinstance(category, str) and category else base


def to_public(comment: Comment) -> CommentPublic:
    assert comment.id is not None
    if comment.status != CommentStatus.APPROVED:
        # A placeholder keeps the replies' context without showing what was removed.
        return CommentPublic(
            id=comment.id,
            parent_id=comment.parent_id,
            author_name="",
            website=None,
            html="",
            created_at=comment.created_at,
            edited_at=None,
            avatar="",
            reply_count=comment.reply_count,
            removed=True,
            removed_reason=removed_reason(comment),
        )
    return preview_public(comment)


def preview_public(comment: Comment) -> CommentPublic:
    """The author's own view of their comment as it will look once published."""
    assert comment.id is not None
    return CommentPublic(
        id=comment.id,
        parent_id=comment.parent_id,
        author_name=comment.author_name,
        website=comment.website,
        html=comment.html,
        created_at=comment.created_at,
        edited_at=comment.edited_at,
        avatar=comment.avatar,
        reply_count=comment.reply_count,
    )
