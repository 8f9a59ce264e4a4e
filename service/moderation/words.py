"""Blocked words (REJECT) and suspect words (HOLD), in the text, the name and the website.

Matching runs on the obfuscation-resistant key (see ``normalise``) with whole-word
boundaries, through one cached Aho-Corasick automaton per pair of lists.
Reasons never quote the matched term (the author may read them, and a spammer would
learn what to misspell); the term goes into ``detail`` for moderators.
"""

from __future__ import annotations

from dataclasses import dataclass

from .core import Action, Facts, Submission, Verdict
from .matcher import BLOCKED, Matcher
from .policy import Policy
from .registry import register

_WHERE = {"body": "", "author_name": "the name ", "website": "the website "}


def matcher_for(policy: Policy) -> Matcher:
    """The automaton for the policy's lists (cached on the Policy)."""
    return policy.matcher


@dataclass(frozen=True, slots=True)
class WordsCheck:
    """The strictest finding over body, author name and website."""

    matcher: Matcher
    name: str = "words"

    def __call__(self, submission: Submission, facts: Facts) -> Verdict | None:  # noqa: ARG002
        suspect: tuple[str, str] | None = None
        fields = (
            ("body", submission.body),
            ("author_name", submission.author_name),
            ("website", submission.website or ""),
        )
        for field, text in fields:
            if not text:
                continue
            for term in self.matcher.find(text):
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
            return None
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
