"""Regenerate the table in service/moderation/confusables.py (not a test; run by hand).

    pip download --no-deps confusable-homoglyphs==3.3.1 -d /tmp/conf
    (cd /tmp/conf && unzip -o confusable_homoglyphs-3.3.1-py2.py3-none-any.whl)
    .venv/bin/python tests/moderation/make_confusables.py > /tmp/table.txt

Keeps look-alikes of ASCII letters/digits that survive NFKC + casefold + mark stripping as
one non-ASCII character; lowercase targets win over digits, digits over uppercase.
"""

from __future__ import annotations

import json
import string
import sys
import unicodedata
from pathlib import Path

SOURCE = Path("/tmp/conf/confusable_homoglyphs/confusables.json")


def pipeline(c: str) -> str:
    s = unicodedata.normalize("NFKC", c).casefold()
    s = unicodedata.normalize("NFD", s)
    return "".join(ch for ch in s if unicodedata.category(ch) not in {"Mn", "Mc", "Me", "Cf"})


def main() -> None:
    data = json.loads(SOURCE.read_text(encoding="utf-8"))
    table: dict[str, str] = {}
    for key in string.ascii_lowercase + string.digits + string.ascii_uppercase:
        for entry in data.get(key, []):
            q = pipeline(entry["c"])
            if len(q) != 1 or q.isascii() or q in table:
                continue
            if unicodedata.category(q)[0] in "LNS" or unicodedata.category(q) == "Po":
                table[q] = key.lower()
    by: dict[str, list[str]] = {}
    for src, tgt in sorted(table.items()):
        by.setdefault(tgt, []).append(src)
    for tgt in sorted(by):
        esc = [f"\\u{ord(c):04x}" if ord(c) < 0x10000 else f"\\U{ord(c):08x}" for c in by[tgt]]
        chunks = ["".join(esc[i : i + 12]) for i in range(0, len(esc), 12)]
        body = "\n".join(f'        "{x}"' for x in chunks)
        sys.stdout.write(f'    "{tgt}": (\n{body}\n    ),\n')


if __name__ == "__main__":
    main()
