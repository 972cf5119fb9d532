#!/usr/bin/env bash
# Build the upstream kubernetes-sigs/dra-example-driver as a local Docker image
# without any container registry: source and dependencies come from the Go
# module proxy, the image is assembled with `docker import` (no base image).
#
# Env:
#   EXAMPLE_DRIVER_VERSION   module version to build (default v0.4.0)
#   DRA_CONFORMANCE_CACHE    cache root (default ~/.cache/dra-conformance)
#   EXAMPLE_DRIVER_CMDS      commands to build (default: the ones the chart runs)
#   EXAMPLE_DRIVER_REBUILD=1 rebuild even if the image already exists
#
# The build is CPU heavy; on a shared host run it as
#   nice -n 19 env GOMAXPROCS=1 ./build.sh
set -euo pipefail

VERSION="${EXAMPLE_DRIVER_VERSION:-v0.4.0}"
MODULE="sigs.k8s.io/dra-example-driver"
CACHE_ROOT="${DRA_CONFORMANCE_CACHE:-$HOME/.cache/dra-conformance}"
WORK="$CACHE_ROOT/examples/dra-example-driver/$VERSION"
IMAGE="dra-example-driver.local/dra-example-driver:$VERSION"
# The only toolchain we may switch to when the module needs a newer Go.
NEWER_TOOLCHAIN="go1.27.3"
# kubeletplugin: the DaemonSet (always deployed).
# controller: only deployed with controller.plugins (e.g. BindingConditions),
# but cheap to add and keeps that knob usable. The webhook is left out by
# default: it needs cert-manager, which we cannot install without a registry.
CMDS="${EXAMPLE_DRIVER_CMDS:-dra-example-kubeletplugin dra-example-controller}"

log() { printf '[dra-example-driver] %s\n' "$*" >&2; }

report() {
  local id
  id="$(docker image inspect --format '{{.Id}}' "$IMAGE")"
  printf 'image=%s\nimage_id=%s\nchart=%s\n' "$IMAGE" "$id" "$WORK/chart"
}

mkdir -p "$WORK"
# Serialise concurrent runs for the same version (flock is optional).
if command -v flock >/dev/null 2>&1; then
  exec 9>"$WORK/.lock"
  flock 9
fi

# No-op when both outputs are already there.
if [[ "${EXAMPLE_DRIVER_REBUILD:-0}" != 1 ]] &&
  docker image inspect "$IMAGE" >/dev/null 2>&1 &&
  [[ -f "$WORK/chart/Chart.yaml" ]]; then
  log "already built: $IMAGE"
  report
  exit 0
fi

# Never let a go.work or vendor setting from the caller's environment leak in.
# -buildvcs=false: the cache may sit inside some unrelated git checkout.
export GOWORK=off GOFLAGS="-mod=readonly -buildvcs=false" GO111MODULE=on
cd "$WORK"

log "downloading $MODULE@$VERSION from the Go module proxy"
# Stay on the local toolchain for the download itself.
# (`go mod download -json` exits non-zero on error but still prints the JSON.)
MOD_JSON="$(GOTOOLCHAIN=local go mod download -json "$MODULE@$VERSION")" || true
MOD_DIR="$(jq -r '.Dir // empty' <<<"$MOD_JSON" 2>/dev/null ||
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' <<<"$MOD_JSON")"
if [[ -z "$MOD_DIR" || ! -f "$MOD_DIR/go.mod" ]]; then
  # Typical cause: the version is unknown to the proxy or to the checksum
  # database (GOSUMDB); the JSON's "Error" field says which.
  log "go mod download gave no module directory for $MODULE@$VERSION:"
  printf '%s\n' "$MOD_JSON" >&2
  exit 1
fi

# Private writable copy of the source (the module cache is read-only).
rm -rf "$WORK/src.tmp"
cp -R "$MOD_DIR" "$WORK/src.tmp"
chmod -R u+w "$WORK/src.tmp"
rm -rf "$WORK/src"
mv "$WORK/src.tmp" "$WORK/src"
SRC="$WORK/src"

# Pick the toolchain: the local one if it satisfies go.mod's `go` line, else
# the single newer one allowed. GOTOOLCHAIN=local also stops a `toolchain`
# line from triggering an automatic download of some other version.
need="$(sed -n 's/^go \([0-9][0-9.]*\).*/\1/p' "$SRC/go.mod" | head -n1)"
have="$(GOTOOLCHAIN=local go env GOVERSION)"
have="${have#go}"
have="${have%% *}"
if [[ -n "$need" && "$(printf '%s\n%s\n' "$need" "$have" | sort -V | head -n1)" != "$need" ]]; then
  export GOTOOLCHAIN="$NEWER_TOOLCHAIN"
else
  export GOTOOLCHAIN=local
fi
log "go.mod wants go $need, local is go $have, using GOTOOLCHAIN=$GOTOOLCHAIN"

# Static linux binaries laid out as the chart expects: commands are bare names
# ("dra-example-kubeletplugin"), resolved through PATH, so /usr/bin like the
# upstream Dockerfile.
ROOTFS="$WORK/rootfs"
rm -rf "$ROOTFS"
mkdir -p "$ROOTFS/usr/bin" "$ROOTFS/bin" "$ROOTFS/etc" "$ROOTFS/tmp" \
  "$ROOTFS/var/run/cdi" "$ROOTFS/etc/cdi"
chmod 1777 "$ROOTFS/tmp"
# A minimal user database for tools that look up uid 0.
printf 'root:x:0:0:root:/root:/sbin/nologin\n' >"$ROOTFS/etc/passwd"
printf 'root:x:0:\n' >"$ROOTFS/etc/group"

GOARCH_HOST="$(go env GOARCH)"
for cmd in $CMDS; do
  log "building $cmd ($GOARCH_HOST, CGO_ENABLED=0)"
  (cd "$SRC" && CGO_ENABLED=0 GOOS=linux GOARCH="$GOARCH_HOST" \
    go build -trimpath -ldflags "-s -w -X main.version=$VERSION" \
    -o "$ROOTFS/usr/bin/$cmd" "./cmd/$cmd")
done

# Reproducible tarball: fixed owner and mtime, sorted entries.
TARBALL="$WORK/rootfs.tar"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime='@0' \
  -C "$ROOTFS" -cf "$TARBALL" .

first_cmd="${CMDS%% *}"
log "importing $IMAGE"
docker import \
  --platform "linux/$GOARCH_HOST" \
  --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
  --change "CMD [\"/usr/bin/$first_cmd\"]" \
  --change "LABEL org.opencontainers.image.source=https://github.com/kubernetes-sigs/dra-example-driver" \
  --change "LABEL org.opencontainers.image.version=$VERSION" \
  --message "dra-example-driver $VERSION built from the Go module proxy" \
  "$TARBALL" "$IMAGE" >/dev/null
rm -f "$TARBALL"

# The chart, next to the image, for a driver profile to point at.
rm -rf "$WORK/chart.tmp"
cp -R "$SRC/deployments/helm/dra-example-driver" "$WORK/chart.tmp"
rm -rf "$WORK/chart"
mv "$WORK/chart.tmp" "$WORK/chart"

report
