"""Blocked words (REJECT) and suspect words (HOLD), in the text, the name and the website.

Matching runs on the obfuscation-resistant key (see ``normalise``) with whole-word
boundaries, through one cached Aho-Corasick automaton per pair of lists.
Reasons never quote the matched term (the author may read them, and a spammer would
learn what to misspell); the term goes into ``detail`` for moderators.

Cap (issue 19): a field's folded text is matched up to ``MAX_KEY_INPUT`` characters (cut at
a space, so no word is cut in two; ``normalise.FOLD_LIMIT``). A body is at most 10,000
characters, but NFKC expands some characters up to 18 times (U+FDFA); past the cap the
comment is held for a person.
The caller's budget (``Facts.budget``) is asked between fields and inside the matcher.
"""

from __future__ import annotations

from dataclasses import dataclass

from .core import OVER_BUDGET_REASON, Action, Facts, Submission, Verdict
from .matcher import BLOCKED, Matcher
from .normalise import FOLD_LIMIT, capped, fold, folded_key
from .policy import Policy
from .registry import register

_WHERE = {"body": "", "author_name": "the name ", "website": "the website "}
MAX_KEY_INPUT = FOLD_LIMIT


def _capped_key(text: str) -> tuple[str, bool]:
    """The matching key of ``text``'s first ``MAX_KEY_INPUT`` folded characters, and
    whether anything was left out."""
    folded = fold(text)
    if not capped(folded):
        return folded_key(folded), False
    cut = max(folded.rfind(" ", 0, MAX_KEY_INPUT), 0)
    return folded_key(folded[:cut]), True


def matcher_for(policy: Policy) -> Matcher:
    """The automaton for the policy's lists (cached on the Policy)."""
    return policy.matcher


@dataclass(frozen=True, slots=True)
class WordsCheck:
    """The strictest finding over body, author name and website."""

    matcher: Matcher
    name: str = "words"

    def __call__(self, submission: Submission, facts: Facts) -> Verdict | None:
        suspect: tuple[str, str] | None = None
        capped: str | None = None
        fields = (
            ("body", submission.body),
            ("author_name", submission.author_name),
            ("website", submission.website or ""),
        )
        for field, text in fields:
            if not text:
                continue
            facts.check_time()
            key, cut = _capped_key(text)
            if cut and capped is None:
                capped = field
            facts.check_time()
            for term in self.matcher.find_key(key, facts.budget):
                if term.label == BLOCKED:
                    return Verdict(
                        self.name,
                        Action.REJECT,
                        f"{_WHERE[field]}matched a blocked word".capitalize(),
                        detail=f"{field}: {term.text}",
                    )
                if suspect is None:
                    suspect = (field, term.text)
        if suspect is None:
            if capped is None:
                return None
            return Verdict(
                self.name,
                Action.HOLD,
                OVER_BUDGET_REASON,
                detail=f"{capped}: only the first {MAX_KEY_INPUT} folded characters were checked",
            )
        field, text = suspect
        return Verdict(
            self.name,
            Action.HOLD,
            f"{_WHERE[field]}matched a word or phrase this site reviews first".capitalize(),
            detail=f"{field}: {text}",
        )


@register("words")
def _words(policy: Policy) -> WordsCheck | None:
    if not policy.blocked_words and not policy.all_suspect_words():
        return None
    return WordsCheck(matcher_for(policy))
