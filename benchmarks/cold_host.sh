#!/usr/bin/env bash
# The cold-host proof: this host made as bare as a fresh one of ours, a fresh clone, the README's
# two commands, and the time of every set-up step.
#
#   sudo benchmarks/cold_host.sh            # both commands (run, then selftest)
#   COLD_COMMANDS=run benchmarks/cold_host.sh
#
# Made cold, and put back afterwards (COLD_KEEP=1 keeps the proof's engine state instead):
# - every Debian package the harness may install (`dra-conformance doctor --packages`), with the
#   packages that depended on them and the dependencies only they needed;
# - the Docker engine: stopped, its data (every image) and daemon.json moved aside, the capability
#   filter removed;
# - the harness cache, Go's build and module caches, pip's and npm's caches: empty directories.
# Tools a fresh host of ours ships outside Debian's packages (Go, Python, Node) stay.
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[[ $(id -u) == 0 ]] || { echo "cold_host.sh: must run as root (it removes packages and stops dockerd)" >&2; exit 2; }
work=${COLD_DIR:-$(mktemp -d /var/tmp/dra-cold-proof.XXXXXX)}
commands=${COLD_COMMANDS:-run selftest}
mkdir -p "$work"
log=$work/proof.log
say() { printf '%s %s\n' "$(date +%T)" "$*" | tee -a "$log" >&2; }
t0=$(date +%s)

stop_dockerd() {
  pkill -TERM -x dockerd 2>/dev/null || true
  for _ in $(seq 1 60); do pgrep -x dockerd >/dev/null || break; sleep 0.5; done  # an exit, not a wait for state
  pkill -KILL -x dockerd 2>/dev/null || true
  pkill -TERM -f 'containerd --config /var/run/docker/containerd' 2>/dev/null || true
}

# --- what the harness may install, listed by the harness itself ---------------------------------
say "listing the harness's host packages"
"$src/dra-conformance" doctor --packages >"$work/packages.txt"
mapfile -t declared <"$work/packages.txt"
installed=()
for p in "${declared[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed' && installed+=("$p"); done
dpkg-query -W -f='${Package}\n' | sort >"$work/dpkg-before.txt"

# --- the engine and its state -------------------------------------------------------------------
say "stopping dockerd and moving its state aside"
stop_dockerd
saved=$work/saved
mkdir -p "$saved"
# Where /var/lib/docker is a mount point it cannot be moved: its entries go into a folder inside
# it instead (a rename on the same mount, however large the state; dockerd ignores the folder).
inside=/var/lib/docker/.cold-proof-saved
if mountpoint -q /var/lib/docker; then
  mkdir -p "$inside"
  find /var/lib/docker -mindepth 1 -maxdepth 1 ! -path "$inside" -exec mv -t "$inside" {} +
fi
for f in /var/lib/docker /etc/docker/daemon.json /usr/local/sbin/dra-conformance-runc-capfilter; do
  [[ -e $f ]] && ! mountpoint -q "$f" && mv "$f" "$saved/$(echo "${f#/}" | tr / _)"
done

restore() {
  set +e
  say "restoring the host"
  stop_dockerd
  if [[ ${COLD_KEEP:-} != 1 ]]; then
    if [[ -d $inside ]]; then
      find /var/lib/docker -mindepth 1 -maxdepth 1 ! -path "$inside" -exec rm -rf {} +
      find "$inside" -mindepth 1 -maxdepth 1 -exec mv -t /var/lib/docker {} +
      rmdir "$inside"
    else
      rm -rf /var/lib/docker
    fi
    rm -rf /etc/docker/daemon.json /usr/local/sbin/dra-conformance-runc-capfilter
    for f in "$saved"/*; do [[ -e $f ]] && mv "$f" "/$(basename "$f" | tr _ /)"; done
  fi
  dpkg-query -W -f='${Package}\n' | sort >"$work/dpkg-after.txt"
  mapfile -t gone < <(comm -23 "$work/dpkg-before.txt" "$work/dpkg-after.txt")
  if ((${#gone[@]})); then
    say "reinstalling what the proof removed and the harness did not need: ${gone[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${gone[@]}" >>"$log" 2>&1
  fi
}
trap restore EXIT

# --- the packages --------------------------------------------------------------------------------
if ((${#installed[@]})); then
  orphans_before=$(apt-get -s autoremove 2>/dev/null | awk '/^Remv/ {print $2}' | sort)
  say "removing host packages: ${installed[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq "${installed[@]}" >>"$log" 2>&1
  mapfile -t orphans < <(comm -13 <(echo "$orphans_before") \
    <(apt-get -s autoremove 2>/dev/null | awk '/^Remv/ {print $2}' | sort))
  if ((${#orphans[@]})); then
    say "removing the dependencies only they needed: ${orphans[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq "${orphans[@]}" >>"$log" 2>&1
  fi
fi
for p in "${declared[@]}"; do
  if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed'; then
    echo "cold_host.sh: $p is still installed after removal" >&2; exit 1
  fi
done

# --- empty caches and a fresh clone --------------------------------------------------------------
export DRA_CONFORMANCE_CACHE=$work/cache GOCACHE=$work/go-build GOMODCACHE=$work/go-mod \
  PIP_CACHE_DIR=$work/pip-cache npm_config_cache=$work/npm-cache
unset DOCKER_HOST
rm -rf "$work/repo"
git clone -q "$src" "$work/repo"
say "fresh clone of $(git -C "$work/repo" rev-parse --short HEAD) in $work/repo; caches under $work"

# --- the README's two commands -------------------------------------------------------------------
declare -A took
rc=0
for cmd in $commands; do
  say "running ./dra-conformance $cmd"
  start=$(date +%s)
  set +e
  (cd "$work/repo" && ./dra-conformance "$cmd" </dev/null) 2>&1 | tee "$work/$cmd.log"
  status=${PIPESTATUS[0]}
  set -e
  took[$cmd]=$(($(date +%s) - start))
  say "./dra-conformance $cmd exited $status after ${took[$cmd]}s"
  ((status == 0)) || rc=$status
done

# --- figures -------------------------------------------------------------------------------------
{
  echo
  echo "cold-host proof of $(git -C "$work/repo" rev-parse --short HEAD) on $(hostname), $(nproc) cores"
  echo "removed before: ${installed[*]:-nothing (none was installed)}"
  for cmd in $commands; do
    echo
    echo "./dra-conformance $cmd: ${took[$cmd]}s"
    # Set-up steps print '✓ <what> (<seconds>s)' when they end; the last pytest line sums the tests.
    grep -E '^[✓✗] .* \([0-9.]+s\)$' "$work/$cmd.log" | sed 's/^/  /' || true
    grep -E '(passed|failed|error)[^ ]* in [0-9.]+s' "$work/$cmd.log" | tail -n 1 | sed 's/^/  /' || true
  done
  echo
  echo "total: $(($(date +%s) - t0))s; logs in $work"
} | tee -a "$log"
exit "$rc"
