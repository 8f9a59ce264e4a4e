#!/usr/bin/env bash
# Build (or reuse) a local Debian bookworm base image for the container test.
#
# The image is made with debootstrap from Debian's packages, so no container
# registry is needed: it has python3 (3.11, as python:3.11-slim-bookworm),
# python3-venv and ca-certificates.  It is stored in buildah's vfs storage as
# $MARGIN_BASE_IMAGE (default localhost/margin-base:bookworm).
#
# Caching, cheapest first:
#   1. the image already exists in buildah's storage with the same cache key
#      -> nothing to do;
#   2. the debootstrap root filesystem tarball exists under $MARGIN_CACHE_DIR
#      (default /var/cache/margin) -> import it (a few seconds);
#   3. otherwise run debootstrap (about a minute), save the tarball, import it.
# The cache key covers the suite, the package list and the host's CA bundle
# (copied into the image so that pip/uv inside `buildah bud` trust the
# connection to the package index on machines behind a TLS-inspecting proxy).
#
# Needs root, buildah and debootstrap.  Environment:
#   MARGIN_BASE_IMAGE     image name           (localhost/margin-base:bookworm)
#   MARGIN_CACHE_DIR      tarball cache dir    (/var/cache/margin)
#   MARGIN_DEBIAN_MIRROR  debootstrap mirror   (debootstrap's default)
#   MARGIN_BUILDAH_ROOT   buildah storage root (buildah's default)
#   MARGIN_BASE_REBUILD=1 ignore every cache
set -euo pipefail

IMAGE="${MARGIN_BASE_IMAGE:-localhost/margin-base:bookworm}"
CACHE_DIR="${MARGIN_CACHE_DIR:-/var/cache/margin}"
SUITE=bookworm
PACKAGES="python3,python3-venv,ca-certificates"
HOST_CA=/etc/ssl/certs/ca-certificates.crt

BUILDAH=(buildah --storage-driver vfs)
if [[ -n "${MARGIN_BUILDAH_ROOT:-}" ]]; then
  BUILDAH+=(--root "$MARGIN_BUILDAH_ROOT")
fi

log() { printf '[build-base] %s\n' "$*" >&2; }

for tool in buildah debootstrap tar sha256sum; do
  command -v "$tool" >/dev/null || { log "missing tool: $tool"; exit 2; }
done
[[ $(id -u) -eq 0 ]] || { log "must run as root (debootstrap, buildah chroot)"; exit 2; }

ca_sum="none"
[[ -f "$HOST_CA" ]] && ca_sum=$(sha256sum "$HOST_CA" | cut -c1-16)
rootfs_key=$(printf '%s|%s|v1' "$SUITE" "$PACKAGES" | sha256sum | cut -c1-16)
image_key="${rootfs_key}-${ca_sum}"
tarball="$CACHE_DIR/margin-base-${SUITE}-${rootfs_key}.tar"

if [[ "${MARGIN_BASE_REBUILD:-0}" != 1 ]] \
   && "${BUILDAH[@]}" inspect --type image "$IMAGE" >/dev/null 2>&1; then
  have=$("${BUILDAH[@]}" inspect --type image \
          --format '{{index .OCIv1.Config.Labels "org.margin.base.key"}}' "$IMAGE" 2>/dev/null || true)
  if [[ "$have" == "$image_key" ]]; then
    log "cached: $IMAGE (key $image_key)"
    exit 0
  fi
  log "$IMAGE exists with key '$have', want '$image_key': rebuilding"
fi

mkdir -p "$CACHE_DIR"
if [[ "${MARGIN_BASE_REBUILD:-0}" == 1 || ! -s "$tarball" ]]; then
  workdir=$(mktemp -d "$CACHE_DIR/rootfs.XXXXXX")
  trap 'rm -rf "$workdir"' EXIT
  log "debootstrap $SUITE ($PACKAGES) into $workdir/rootfs"
  start=$SECONDS
  # shellcheck disable=SC2086
  timeout 900 debootstrap --variant=minbase --include="$PACKAGES" \
    "$SUITE" "$workdir/rootfs" ${MARGIN_DEBIAN_MIRROR:-} >"$workdir/debootstrap.log" 2>&1 || {
      log "debootstrap failed; last lines:"; tail -n 30 "$workdir/debootstrap.log" >&2; exit 1; }
  log "debootstrap done in $((SECONDS - start))s"
  # Trim what an image does not need.
  rm -rf "$workdir/rootfs/var/cache/apt/archives/"*.deb \
         "$workdir/rootfs/var/lib/apt/lists/"* \
         "$workdir/rootfs/var/log/"*.log
  "$workdir/rootfs/usr/bin/python3" --version >/dev/null 2>&1 || true
  tar -C "$workdir/rootfs" --numeric-owner -cf "$tarball.tmp" .
  mv "$tarball.tmp" "$tarball"
  rm -rf "$workdir"; trap - EXIT
  log "saved $tarball ($(du -h "$tarball" | cut -f1))"
else
  log "reusing rootfs tarball $tarball"
fi

ctr=$("${BUILDAH[@]}" from scratch)
trap '"${BUILDAH[@]}" rm "$ctr" >/dev/null 2>&1 || true' EXIT
# `buildah add` unpacks a local tar archive into the destination.
"${BUILDAH[@]}" add "$ctr" "$tarball" / >/dev/null
if [[ -f "$HOST_CA" ]]; then
  "${BUILDAH[@]}" copy "$ctr" "$HOST_CA" /etc/ssl/certs/ca-certificates.crt >/dev/null
fi
"${BUILDAH[@]}" config \
  --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --env LANG=C.UTF-8 \
  --cmd /usr/bin/python3 \
  --label org.margin.base.key="$image_key" \
  --label org.margin.base.suite="$SUITE" \
  "$ctr"
"${BUILDAH[@]}" commit --quiet --rm "$ctr" "$IMAGE" >/dev/null
trap - EXIT
log "committed $IMAGE (key $image_key)"
