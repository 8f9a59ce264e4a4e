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
    # asking for a visit
    "check out",
    "check out my",
    "checkout my",
    "check out our",
    "check it out",
    "visit my",
    "look at my",
    "listen to my",
    "watch my",
    "click here",
    "click the link",
    "click on the link",
    "click this",
    # the thing being promoted
    "my channel",
    "my chanel",
    "our channel",
    "my new channel",
    "gaming channel",
    "my youtube",
    "my videos",
    "my video",
    "my new video",
    "my new song",
    "my music",
    "my cover",
    "my page",
    "my blog",
    "my website",
    "my site",
    "my profile",
    "my playlist",
    "my instagram",
    "my twitter",
    "my facebook",
    # asking for subscribers, likes and follows
    "subscribe",
    "subscribe to",
    "subscribe my",
    "subscribe me",
    "please subscribe",
    "pls subscribe",
    "plz subscribe",
    "and subscribe",
    "subscribe and",
    "sub to my",
    "sub me",
    "sub4sub",
    "sub 4 sub",
    "some subs",
    "help me get",
    "help me reach",
    "follow me",
    "follow my",
    "like this comment",
    "like my",
    "like and share",
    "please share",
    "please like",
    "give it a like",
    # money and freebies
    "make money",
    "earn money",
    "real money",
    "easy money",
    "free money",
    "work from home",
    "gift card*",
    "giftcard*",
    "free itunes",
    "itunes code*",
    "promo code",
    "100% free",
)

SUSPECT_PRESETS: dict[str, tuple[str, ...]] = {"self_promotion": SELF_PROMOTION}
