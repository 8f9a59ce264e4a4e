"""Server-rendered HTML: the demo article and the no-JavaScript page of a thread.

Everything is escaped except a comment's ``html``, which was rendered from Markdown with raw HTML
off and sanitised by nh3 when it was written.
"""

from __future__ import annotations

import re
from html import escape
from urllib.parse import urlencode

from service.comments.models import CommentPublic, ThreadPage
from service.widget.assets import assets, template

_SLOT = re.compile(r"\{\{(\w+)\}\}")
DEMO_SITE = "demo"
DEMO_THREAD = "/2020/12/18/zoom-data"

PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# The no-JavaScript page runs no script at all.
THREAD_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)


def _fill(text: str, values: dict[str, str]) -> str:
    """One pass, so a value containing ``{{...}}`` is never expanded."""
    return _SLOT.sub(lambda m: values[m.group(1)], text)


def demo_page() -> str:
    return _fill(
        template("demo.html"),
        {
            "css": f"/static/{assets().page_style.name}",
            "site": DEMO_SITE,
            "thread": escape(DEMO_THREAD),
            "plain": escape(thread_path(DEMO_SITE, DEMO_THREAD)),
        },
    )


def thread_path(site: str, thread: str, **extra: str) -> str:
    return f"/sites/{site}/threads?" + urlencode({"thread": thread, **extra})


def _identicon(seed: str) -> str:
    """The same 5x5 symmetric pattern as the widget draws, as inline SVG."""
    if len(seed) != 16:
        return '<svg class="av" viewBox="-0.5 -0.5 6 6" aria-hidden="true"></svg>'
    hue = int(seed[:3], 16) % 360
    bits = int(seed[3:11], 16)
    rects = []
    for y in range(5):
        for x in range(3):
            if (bits >> (y * 3 + x)) & 1:
                for cx in sorted({x, 4 - x}):
                    rects.append(f'<rect x="{cx}" y="{y}" width="1" height="1"/>')
    return (
        f'<svg class="av" viewBox="-0.5 -0.5 6 6" aria-hidden="true">'
        f'<rect x="-0.5" y="-0.5" width="6" height="6" fill="#f0f2f5"/>'
        f'<g fill="hsl({hue},55%,40%)">{"".join(rects)}</g></svg>'
    )


def _comment(c: CommentPublic, children: dict[int | None, list[CommentPublic]]) -> str:
    when = c.created_at.strftime("%Y-%m-%d %H:%M UTC")
    if c.removed:
        head = '<span class="author">Removed comment</span>'
        body = f'<p class="gone">This comment was removed ({escape(c.removed_reason or "")}).</p>'
    else:
        name = escape(c.author_name)
        if c.website and c.website.lower().startswith(("http://", "https://")):
            name = (
                f'<a href="{escape(c.website)}" rel="nofollow ugc noopener noreferrer">{name}</a>'
            )
        head = f'{_identicon(c.avatar)}<span class="author">{name}</span>'
        body = f'<div class="body">{c.html}</div>'
    edited = " (edited)" if c.edited_at else ""
    replies = "".join(_comment(r, children) for r in children.get(c.id, []))
    nested = f'<ol class="replies">{replies}</ol>' if replies else ""
    return (
        f'<li id="comment-{c.id}"><article><header>{head} '
        f'<a class="when" href="#comment-{c.id}"><time datetime="{c.created_at.isoformat()}">'
        f"{when}</time></a>{edited}</header>{body}</article>{nested}</li>"
    )


def article_url(thread_url: str | None, thread_key: str, origins: list[str]) -> str | None:
    """Where "Back to the article" goes: the URL the widget stored with the thread, else the
    thread key on the site's first origin when the key is a path (the widget's default key is
    the article's ``location.pathname``)."""
    if thread_url and thread_url.lower().startswith(("http://", "https://")):
        return thread_url
    if origins and thread_key.startswith("/") and not thread_key.startswith("//"):
        preferred = next((o for o in origins if o.startswith("https://")), origins[0])
        return preferred + thread_key
    return None


def thread_page(
    site_name: str, site: str, page: ThreadPage, *, sort: str, origins: list[str] | None = None
) -> str:
    ids = {c.id for c in page.comments}
    children: dict[int | None, list[CommentPublic]] = {}
    for c in page.comments:
        # A reply whose parent is not on this page is shown at the top level.
        parent = c.parent_id if c.parent_id in ids else None
        children.setdefault(parent, []).append(c)
    items = "".join(_comment(c, children) for c in children.get(None, []))
    thread = page.thread
    title = thread.title or thread.key
    url = article_url(thread.url, thread.key, origins or [])
    article = f'<p><a href="{escape(url)}">Back to the article</a></p>' if url else ""
    nav = (
        f'<p class="next"><a rel="next" href="'
        f'{escape(thread_path(site, thread.key, cursor=page.next_cursor, sort=sort))}">'
        "More comments</a></p>"
        if page.next_cursor
        else ""
    )
    count = f"{thread.total} comment" + ("" if thread.total == 1 else "s")
    return _fill(
        template("thread.html"),
        {
            "css": f"/static/{assets().page_style.name}",
            "title": escape(title),
            "site_name": escape(site_name),
            "count": count,
            "article": article,
            "items": items or '<li class="empty">No comments yet.</li>',
            "nav": nav,
            "transparency": escape(f"/sites/{site}/transparency"),
        },
    )
