"""Whole-word term matching on the matching key: Aho-Corasick in pure Python.

One pass over the text finds every term, whatever the list size, so 10,000+ blocked
words cost about the same per comment as ten. The automaton is built once per term list
and cached (``compile_matcher``); its transition table is completed lazily while scanning.

A raw automaton hit is only a *candidate*. It becomes a match when it also
* starts and ends on word boundaries (so "Scunthorpe" does not contain "cunt"), unless
  the term has a ``*`` wildcard on that side, and
* the text's letter runs are at least the term's (collapsed repeats: "fuuuck" matches
  "fuck", but "as" does not match "ass").
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from .normalise import REPEATS, SOFT, TermKey, term_key, text_key

# Bound the lazily completed transition table per state so hostile text full of rare
# characters cannot grow memory without limit (misses are then recomputed, not stored).
_MAX_MEMO_PER_STATE = 256

BLOCKED = "blocked"
SUSPECT = "suspect"


@dataclass(frozen=True, slots=True)
class Term:
    """A list entry: the text as the site wrote it, its compiled key and its label."""

    text: str
    label: str
    compiled: TermKey


class Matcher:
    """An Aho-Corasick automaton over compiled term keys. Safe to share between threads:
    the only mutation is memoising transitions, which always stores the same value."""

    def __init__(self, terms: Iterable[tuple[str, str]]) -> None:
        """``terms``: (term text, label) pairs; terms with an empty key are skipped."""
        goto: list[dict[str, int]] = [{}]
        outs: list[list[Term]] = [[]]
        for text, label in terms:
            compiled = term_key(text)
            if not compiled.key:
                continue
            state = 0
            for ch in compiled.key:
                nxt = goto[state].get(ch)
                if nxt is None:
                    nxt = len(goto)
                    goto[state][ch] = nxt
                    goto.append({})
                    outs.append([])
                state = nxt
            outs[state].append(Term(text, label, compiled))
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
        self.size = sum(len(o) for o in outs if o)

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

    def find(self, text: str) -> list[Term]:
        """Every term matched in ``text`` (normalised here)."""
        return self.find_key(text_key(text))


@lru_cache(maxsize=32)
def compile_matcher(labelled: tuple[tuple[str, tuple[str, ...]], ...]) -> Matcher:
    """The matcher for ``((label, terms), ...)``, built once and cached.

    Keyed on the term tuples themselves, so every Policy with the same lists shares one
    automaton. The Policy caches the result too, so the tuples are hashed once per Policy.
    """
    return Matcher((term, label) for label, terms in labelled for term in terms)
