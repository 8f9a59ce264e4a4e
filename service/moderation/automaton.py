"""The Aho-Corasick automaton behind ``matcher.Matcher``: its general path, for keys the
fast path does not handle. One pass over the key, whatever the list size."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from .core import BUDGET_STRIDE, Budget, ask_budget
from .normalise import REPEATS, SOFT, TermKey

# Bound the lazily completed transition table per state so hostile text full of rare
# characters cannot grow memory without limit (misses are then recomputed, not stored).
_MAX_MEMO_PER_STATE = 256


@dataclass(frozen=True, slots=True)
class Term:
    """A list entry: the text as the site wrote it, its compiled key and its label."""

    text: str
    label: str
    compiled: TermKey


class Automaton:
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

    def find_key(self, key: str, budget: Budget | None = None) -> list[Term]:
        """Every term matched in a key produced by ``text_key`` (in order of their ends)."""
        # Hot loop: the automaton runs on the collapsed key with soft markers removed, made
        # by C-speed string operations; run lengths and soft boundaries are only worked
        # out (in Python) when there is a candidate to verify, which is rare.
        collapsed = REPEATS.sub(r"\1", key.replace(SOFT, "")) if key else key
        delta, out, miss = self._delta, self._out, self._miss
        state = 0
        candidates: list[tuple[int, int]] = []
        # In chunks, asking the budget between them: the loop itself stays as tight as it was.
        for chunk in range(0, len(collapsed), BUDGET_STRIDE):
            ask_budget(budget)
            for i in range(chunk, min(chunk + BUDGET_STRIDE, len(collapsed))):
                ch = collapsed[i]
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
