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
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate

from .normalise import REPEATS, SOFT, TermKey, term_key, text_key

# Bound the lazily completed transition table per state so hostile text full of rare
# characters cannot grow memory without limit (misses are then recomputed, not stored).
_MAX_MEMO_PER_STATE = 256

BLOCKED = "blocked"
SUSPECT = "suspect"

# Head length of the word-start filter. Terms with shorter keys are looked up whole.
_HEAD = 4
# The head after every hard boundary, shorter at the end of the key (keys never hold
# "\n", but [\s\S] keeps this exact for any input).
_SPACE_HEADS = re.compile(rf" (?=([\s\S]{{1,{_HEAD}}}))")
# A letter repeated across a soft boundary ("n.n"): the fast path leaves these to the
# automaton, which collapses such repeats.
_SOFT_REPEAT = re.compile(r"([^\x1f])\x1f+\1")
_RUNS = re.compile(r"([\s\S])\1*")


@dataclass(frozen=True, slots=True)
class Term:
    """A list entry: the text as the site wrote it, its compiled key and its label."""

    text: str
    label: str
    compiled: TermKey


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
        self._automaton: _Automaton | None = None

    def _slow(self) -> _Automaton:
        automaton = self._automaton
        if automaton is None:  # racing threads build equal automata: harmless
            automaton = self._automaton = _Automaton(self._terms)
        return automaton

    def find_key(self, key: str) -> list[Term]:
        """Every term matched in a key produced by ``text_key`` (in order of their ends)."""
        if not key:
            return []
        if SOFT in key:
            if _SOFT_REPEAT.search(key):
                return self._slow().find_key(key)
            k2 = REPEATS.sub(r"\1", key)
            collapsed = k2.replace(SOFT, "")
            # position in ``collapsed`` right after each soft boundary
            soft_starts = list(accumulate(map(len, k2.split(SOFT)[:-1])))
        else:
            collapsed = REPEATS.sub(r"\1", key)
            soft_starts = []
        floating = self._floating
        if floating is not None and floating.search(collapsed):
            return self._slow().find_key(key)
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
        return self._verify(key, collapsed, soft_starts, keys)

    def _verify(
        self, key: str, collapsed: str, soft_starts: list[int], keys: list[str]
    ) -> list[Term]:
        """The automaton's verification (see ``_Automaton._verify``) of every occurrence
        of ``keys`` in ``collapsed``, in the automaton's order: by end, longer first,
        then list order."""
        soft = {s - 1 for s in soft_starts}  # indexes followed by a soft boundary
        last = len(collapsed) - 1
        runs: list[int] | None = None
        found: list[tuple[int, int, int, Term]] = []
        for k in set(keys):
            size = len(k)
            start = collapsed.find(k)
            while start >= 0:
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

    def find(self, text: str) -> list[Term]:
        """Every term matched in ``text`` (normalised here)."""
        return self.find_key(text_key(text))


class _Automaton:
    """An Aho-Corasick automaton over compiled term keys: the general path. Safe to share
    between threads: the only mutation is memoising transitions, which always stores the
    same value."""

    def __init__(self, terms: Iterable[Term]) -> None:
        goto: list[dict[str, int]] = [{}]
        outs: list[list[Term]] = [[]]
        for term in terms:
            state = 0
            for ch in term.compiled.key:
                nxt = goto[state].get(ch)
                if nxt is None:
                    nxt = len(goto)
                    goto[state][ch] = nxt
                    goto.append({})
                    outs.append([])
                state = nxt
            outs[state].append(term)
        fail = [0] * len(goto)
        queue = deque(goto[0].values())
        while queue:  # breadth first, so a state's fail target is finished before it
            state = queue.popleft()
            for ch, nxt in goto[state].items():
                queue.append(nxt)
                if state:  # depth-1 states fail to the root
                    f = fail[state]
                    while f and ch not in goto[f]:
                        f = fail[f]
                    fail[nxt] = goto[f].get(ch, 0)
                outs[nxt] = outs[nxt] + outs[fail[nxt]]
        self._goto = goto
        self._fail = fail
        self._delta: list[dict[str, int]] = [dict(g) for g in goto]
        self._out: list[tuple[Term, ...]] = [tuple(o) for o in outs]

    def _miss(self, state: int, ch: str) -> int:
        s = state
        goto, fail = self._goto, self._fail
        while s and ch not in goto[s]:
            s = fail[s]
        nxt = goto[s].get(ch, 0)
        memo = self._delta[state]
        if len(memo) < _MAX_MEMO_PER_STATE:
            memo[ch] = nxt
        return nxt

    def find_key(self, key: str) -> list[Term]:
        """Every term matched in a key produced by ``text_key`` (in order of their ends)."""
        # Hot loop: the automaton runs on the collapsed key with soft markers removed, made
        # by C-speed string operations; run lengths and soft boundaries are only worked
        # out (in Python) when there is a candidate to verify, which is rare.
        collapsed = REPEATS.sub(r"\1", key.replace(SOFT, "")) if key else key
        delta, out, miss = self._delta, self._out, self._miss
        state = 0
        candidates: list[tuple[int, int]] = []
        for i, ch in enumerate(collapsed):
            nxt = delta[state].get(ch)
            state = miss(state, ch) if nxt is None else nxt
            if out[state]:
                candidates.append((i, state))
        if not candidates:
            return []
        return self._verify(key, candidates)

    def _verify(self, key: str, candidates: list[tuple[int, int]]) -> list[Term]:
        chars: list[str] = []  # the collapsed key, as scanned
        runs: list[int] = []  # run length of each collapsed letter
        soft: set[int] = set()  # indexes followed by a soft boundary
        prev = ""
        for ch in key:
            if ch == prev:
                runs[-1] += 1
            elif ch == SOFT:  # prev is kept, so repeats collapse across "n.n"
                soft.add(len(chars) - 1)
            else:
                prev = ch
                chars.append(ch)
                runs.append(1)
        found: list[Term] = []
        last = len(chars) - 1
        for end, state in candidates:
            for term in self._out[state]:
                c = term.compiled
                start = end - len(c.key) + 1
                if not c.suffix and start and chars[start - 1] != " " and start - 1 not in soft:
                    continue
                if not c.prefix and end != last and chars[end + 1] != " " and end not in soft:
                    continue
                if all(runs[start + i] >= n for i, n in enumerate(c.runs)):
                    found.append(term)
        return found


@lru_cache(maxsize=32)
def compile_matcher(labelled: tuple[tuple[str, tuple[str, ...]], ...]) -> Matcher:
    """The matcher for ``((label, terms), ...)``, built once and cached.

    Keyed on the term tuples themselves, so every Policy with the same lists shares one
    automaton. The Policy caches the result too, so the tuples are hashed once per Policy.
    """
    return Matcher((term, label) for label, terms in labelled for term in terms)
