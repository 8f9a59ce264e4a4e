"""Built-in lists shipped with the core: URL shorteners and suspect-phrase presets.

Presets are named so a stored policy says ``"suspect_presets": ["self_promotion"]`` rather
than copying the list: the list can then improve with a release without a data migration.
"""

from __future__ import annotations

# Shorteners hide where a link leads, so a moderator should look first (HOLD, not SPAM:
# people do share them innocently).
DEFAULT_SHORTENERS: tuple[str, ...] = (
    "bit.ly",
    "bitly.com",
    "buff.ly",
    "cutt.ly",
    "goo.gl",
    "is.gd",
    "lnkd.in",
    "ow.ly",
    "rb.gy",
    "rebrand.ly",
    "shorturl.at",
    "t.co",
    "t.ly",
    "tiny.cc",
    "tinyurl.com",
    "v.gd",
    "s.id",
    "qrco.de",
    "adf.ly",
    "shorte.st",
    "bl.ink",
    "soo.gd",
    "clck.ru",
)

# Self-promotion phrases, tuned on the YouTube Spam Collection (videos 01-03). Each entry
# is a whole-word phrase matched on the normalised key; a trailing * matches word prefixes
# (subscrib* = subscribe, subscribed, subscribers). Held for review, never rejected: these
# phrases also appear in honest comments, which is why a person decides.
SELF_PROMOTION: tuple[str, ...] = (
    "check out my",
    "check my",
    "checkout my",
    "check out our",
    "check out this",
    "visit my",
    "my channel",
    "my chanel",
    "our channel",
    "my new channel",
    "my youtube",
    "my videos",
    "my video",
    "my music",
    "my page",
    "my blog",
    "my website",
    "my site",
    "my profile",
    "my playlist",
    "subscrib*",
    "sub to my",
    "sub me",
    "sub4sub",
    "sub 4 sub",
    "follow me",
    "follow my",
    "like and share",
    "please share",
    "please like",
    "give it a like",
    "thumbs up",
    "make money",
    "earn money",
    "work from home",
    "free gift card*",
    "free money",
    "click here",
    "click the link",
    "promo code",
    "for free",
    "100% free",
)

SUSPECT_PRESETS: dict[str, tuple[str, ...]] = {"self_promotion": SELF_PROMOTION}
