"""Whole-word term matching on the matching key: Aho-Corasick in pure Python.

One pass over the text finds every term, whatever the list size, so 10,000+ blocked
words cost about the same per comment as ten. The automaton is built once per term list
and cached (``compile_matcher``); its transition table is completed lazily while scanning.

A raw automaton hit is only a *candidate*. It becomes a match when it also
* starts and ends on word boundaries (so "Scunthorpe" does not contain "cunt"), unless
  the term has a ``*`` wildcard on that side, and
* the text's letter runs are at least the term's (collapsed repeats: "fuuuck" matches
  "fuck", but "as" does not match "ass").

Fast path (``find_key``): a term without a leading ``*`` can only match where a word
starts, so the matcher first compares the first ``_HEAD`` characters at every word start
with the heads of the terms (one set intersection, done in C). Only the few terms whose
head is present are then looked up with ``str.find`` and verified by the same rules as
the automaton's candidates, in the same order. The automaton itself is only built and
run for keys the fast path does not handle (a repeat across a soft boundary, or a term
with a leading ``*`` that occurs in the key), so the result is always the same.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from itertools import accumulate

from .automaton import Automaton, Term
from .core import BUDGET_STRIDE, Budget, ask_budget
from .normalise import REPEATS, SOFT, term_key, text_key

BLOCKED = "blocked"
SUSPECT = "suspect"

# Head length of the word-start filter. Terms with shorter keys are looked up whole.
_HEAD = 4
# The head after every hard boundary, shorter at the end of the key (keys never hold
# "\n", but [\s\S] keeps this exact for any input).
_SPACE_HEADS = re.compile(rf" (?=([\s\S]{{1,{_HEAD}}}))")
# A letter repeated across a soft boundary ("n.n"): the fast path leaves these to the
# automaton, which collapses such repeats.
_SOFT_REPEAT = re.compile(r"([^\x1f])\x1f++\1")
_RUNS = re.compile(r"([\s\S])\1*")


class Matcher:
    """Whole-word matcher over compiled term keys. Safe to share between threads: the
    only mutations are building the automaton on first need and memoising its
    transitions, which always store the same values."""

    def __init__(self, terms: Iterable[tuple[str, str]]) -> None:
        """``terms``: (term text, label) pairs; terms with an empty key are skipped."""
        self._terms: list[Term] = []
        # key -> (insertion index, term), in insertion order
        by_key: dict[str, list[tuple[int, Term]]] = {}
        for text, label in terms:
            compiled = term_key(text)
            if not compiled.key:
                continue
            term = Term(text, label, compiled)
            by_key.setdefault(compiled.key, []).append((len(self._terms), term))
            self._terms.append(term)
        self._by_key = by_key
        self.size = len(self._terms)
        by_head: dict[str, list[str]] = {}
        short: set[str] = set()
        floating: list[str] = []
        for key, entries in by_key.items():
            if any(t.compiled.suffix for _, t in entries):
                floating.append(key)  # may start anywhere: not a word-start term
            if all(t.compiled.suffix for _, t in entries):
                continue
            if len(key) < _HEAD:
                short.add(key)
            else:
                by_head.setdefault(key[:_HEAD], []).append(key)
        self._by_head = by_head
        self._heads = frozenset(by_head)
        self._short = frozenset(short)
        self._short_lengths = sorted({len(k) for k in short})
        self._floating = (
            re.compile("|".join(map(re.escape, sorted(floating, key=len, reverse=True))))
            if floating
            else None
        )
        self._automaton: Automaton | None = None

    def _slow(self) -> Automaton:
        automaton = self._automaton
        if automaton is None:  # racing threads build equal automata: harmless
            automaton = self._automaton = Automaton(self._terms)
        return automaton

    def find_key(self, key: str, budget: Budget | None = None) -> list[Term]:
        """Every term matched in a key produced by ``text_key`` (in order of their ends).
        ``budget``: asked inside the long loops; raises OutOfTime when it says so."""
        if not key:
            return []
        if SOFT in key:
            if _SOFT_REPEAT.search(key):
                return self._slow().find_key(key, budget)
            k2 = REPEATS.sub(r"\1", key)
            collapsed = k2.replace(SOFT, "")
            # position in ``collapsed`` right after each soft boundary
            soft_starts = list(accumulate(map(len, k2.split(SOFT)[:-1])))
        else:
            collapsed = REPEATS.sub(r"\1", key)
            soft_starts = []
        floating = self._floating
        if floating is not None and floating.search(collapsed):
            return self._slow().find_key(key, budget)
        heads = set(_SPACE_HEADS.findall(collapsed))
        heads.add(collapsed[:_HEAD])
        if soft_starts:
            heads.update([collapsed[s : s + _HEAD] for s in soft_starts])
        keys: list[str] = []
        for head in heads & self._heads:
            keys += self._by_head[head]
        for n in self._short_lengths:  # heads hold every word start's first letters
            keys += {h[:n] for h in heads} & self._short
        if not keys:
            return []
        return self._verify(key, collapsed, soft_starts, keys, budget)

    def _verify(
        self,
        key: str,
        collapsed: str,
        soft_starts: list[int],
        keys: list[str],
        budget: Budget | None = None,
    ) -> list[Term]:
        """The automaton's verification (see ``Automaton._verify``) of every occurrence
        of ``keys`` in ``collapsed``, in the automaton's order: by end, longer first,
        then list order."""
        soft = {s - 1 for s in soft_starts}  # indexes followed by a soft boundary
        last = len(collapsed) - 1
        runs: list[int] | None = None
        found: list[tuple[int, int, int, Term]] = []
        steps = 0
        for k in set(keys):
            size = len(k)
            start = collapsed.find(k)
            while start >= 0:
                steps += 1
                if steps % BUDGET_STRIDE == 0:
                    ask_budget(budget)
                end = start + size - 1
                for index, term in self._by_key[k]:
                    c = term.compiled
                    if (
                        not c.suffix
                        and start
                        and collapsed[start - 1] != " "
                        and start - 1 not in soft
                    ):
                        continue
                    if (
                        not c.prefix
                        and end != last
                        and collapsed[end + 1] != " "
                        and end not in soft
                    ):
                        continue
                    if max(c.runs) > 1:
                        if runs is None:  # no repeats cross a soft boundary here
                            plain = key.replace(SOFT, "")
                            runs = [len(m.group()) for m in _RUNS.finditer(plain)]
                        if not all(runs[start + i] >= n for i, n in enumerate(c.runs)):
                            continue
                    found.append((end, -size, index, term))
                start = collapsed.find(k, start + 1)
        found.sort(key=lambda f: f[:3])
        return [f[3] for f in found]

    def find(self, text: str, budget: Budget | None = None) -> list[Term]:
        """Every term matched in ``text`` (normalised here)."""
        return self.find_key(text_key(text), budget)


@lru_cache(maxsize=32)
def compile_matcher(labelled: tuple[tuple[str, tuple[str, ...]], ...]) -> Matcher:
    """The matcher for ``((label, terms), ...)``, built once and cached.

    Keyed on the term tuples themselves, so every Policy with the same lists shares one
    automaton. The Policy caches the result too, so the tuples are hashed once per Policy.
    """
    return Matcher((term, label) for label, terms in labelled for term in terms)
