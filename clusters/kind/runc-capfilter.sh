#!/bin/sh
# Docker < 23 asks runc for every capability the kernel knows, not the ones this host can grant,
# so `--privileged` fails where the bounding set lacks one (CAP_SYS_RESOURCE on our hosts).
# This runtime trims the OCI spec's capability sets to the bounding set, then runs the real runc.
real=${RUNC_CAPFILTER_REAL:-/usr/sbin/runc}
allowed=$(capsh --decode="$(awk '/^CapBnd:/ {print $2}' /proc/self/status)" | sed 's/^[^=]*=//' \
  | tr ',' '\n' | tr '[:lower:]' '[:upper:]' | jq -R . | jq -cs .)

trim() { # $1: JSON file, $2: path of the object holding .capabilities
  [ -f "$1" ] || return 0
  jq --argjson ok "$allowed" \
    "($2.capabilities // {}) |= with_entries(.value |= if type == \"array\" then map(select(. as \$c | \$ok | index(\$c))) else . end)" \
    "$1" > "$1.capfilter" && cat "$1.capfilter" > "$1"
  rm -f "$1.capfilter"
}

sub=""; bundle=""; process=""; prev=""
for arg in "$@"; do
  case "$prev" in --bundle|-b) bundle=$arg ;; --process|-p) process=$arg ;; esac
  case "$arg" in
    --bundle=*) bundle=${arg#--bundle=} ;;
    --process=*) process=${arg#--process=} ;;
    create|run|exec) [ -z "$sub" ] && sub=$arg ;;
  esac
  prev=$arg
done
case "$sub" in
  create|run) [ -n "$bundle" ] && trim "$bundle/config.json" .process ;;
  exec) [ -n "$process" ] && trim "$process" "" ;;
esac
exec "$real" "$@"
