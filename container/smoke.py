"""HTTP checks run from the host against a Margin container (used by container/test.sh).

Standard library only, so it runs with any python3 on the CI machine. Prints one PASS/FAIL
line per check and exits non-zero at the first failure.

    python3 container/smoke.py --base http://127.0.0.1:PORT --site SLUG \
        --origin http://127.0.0.1:PORT --token MODERATOR_TOKEN [--wait 90]
"""

# ruff: noqa: T201, S310  (a CLI that prints PASS/FAIL lines and fetches a local URL)
from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
import uuid
from typing import Any


class CheckFailed(Exception):
    pass


def request(
    method: str,
    url: str,
    *,
    body: Any = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10,
) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
            status = resp.status
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        status = exc.code
    try:
        payload = json.loads(raw) if raw else None
    except ValueError:
        payload = raw.decode(errors="replace")[:500]
    return status, payload


def check(name: str, ok: bool, detail: object = "") -> None:
    if not ok:
        print(f"FAIL {name}: {detail}", flush=True)
        raise CheckFailed(name)
    print(f"PASS {name}", flush=True)


def wait_healthy(base: str, deadline_s: float) -> None:
    deadline = time.monotonic() + deadline_s
    last: object = "no answer"
    while time.monotonic() < deadline:
        try:
            status, payload = request("GET", f"{base}/healthz", timeout=3)
            if status == 200 and payload == {"status": "ok"}:
                check('GET /healthz answers 200 {"status": "ok"}', True)
                return
            last = (status, payload)
        except OSError as exc:
            last = exc
        time.sleep(0.5)
    check(f"GET /healthz answers within {int(deadline_s)}s", False, last)


def run(args: argparse.Namespace) -> None:
    base = args.base.rstrip("/")
    wait_healthy(base, args.wait)

    status, payload = request("GET", f"{base}/readyz")
    check("GET /readyz: migrated and ready", status == 200, (status, payload))

    api = f"{base}/api/v1/sites/{args.site}"
    thread = f"/container-test/{uuid.uuid4().hex[:8]}"
    comment = {
        "thread": thread,
        "author_name": "Container Test",
        "email": "container-test@example.org",
        "body": "Hello from the container test.",
    }
    status, created = request(
        "POST", f"{api}/comments", body=comment, headers={"Origin": args.origin}
    )
    check("POST comment with allowed Origin -> 201", status == 201, (status, created))
    comment_id = created["id"]
    check(
        f"new comment {comment_id} has status approved|pending (got {created.get('status')!r})",
        created.get("status") in ("approved", "pending") and bool(created.get("edit_token")),
        created,
    )

    status, refused = request(
        "POST", f"{api}/comments", body=comment, headers={"Origin": "http://evil.invalid"}
    )
    check("POST comment with a foreign Origin is refused (403)", status == 403, (status, refused))

    if created["status"] == "pending":
        status, decided = request(
            "POST",
            f"{base}/api/v1/moderation/comments/{comment_id}/decision",
            body={"action": "approve", "reason": "container test"},
            headers={"Authorization": f"Bearer {args.token}"},
        )
        check("moderator approves the pending comment", status == 200, (status, decided))

    status, page = request("GET", f"{api}/comments?thread={urllib.request.quote(thread)}")
    ids = [c.get("id") for c in (page or {}).get("comments", [])] if isinstance(page, dict) else []
    check(
        "GET comments lists the approved comment",
        status == 200 and comment_id in ids,
        (status, page),
    )
    listed = next(c for c in page["comments"] if c["id"] == comment_id)
    check(
        "listed comment has the author and body, never the email",
        listed.get("author_name") == comment["author_name"]
        and "Hello from the container test." in (listed.get("html") or "")
        and "container-test@example.org" not in json.dumps(page),
        listed,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", required=True)
    parser.add_argument("--site", required=True)
    parser.add_argument("--origin", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--wait", type=float, default=90)
    args = parser.parse_args()
    try:
        run(args)
    except CheckFailed:
        return 1
    except Exception as exc:  # report, do not dump a traceback
        print(f"FAIL smoke test crashed: {exc!r}", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
