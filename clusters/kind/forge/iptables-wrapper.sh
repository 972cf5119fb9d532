#!/bin/sh
# iptables, iptables-save and iptables-restore (and the ip6 ones) all point here until the first
# call: it picks the backend the node already uses (legacy or nft: the kubelet leaves a
# KUBE-IPTABLES-HINT chain in the mangle table; else whichever holds more rules), points the
# commands at that backend and runs the real one. Host-network pods such as kube-proxy must
# program the same backend as the node, or their rules are invisible to each other.
hint() { ("$1-save" -t mangle; "ip6${1#ip}-save" -t mangle) 2>/dev/null | grep -c KUBE-IPTABLES-HINT; }
rules() { ("$1-save"; "ip6${1#ip}-save") 2>/dev/null | grep -c '^-'; }
legacy=$(hint iptables-legacy); nft=$(hint iptables-nft)
if [ "$legacy" -eq 0 ] && [ "$nft" -eq 0 ]; then
  legacy=$(rules iptables-legacy); nft=$(rules iptables-nft)
fi
if [ "$legacy" -gt "$nft" ]; then mode=legacy; else mode=nft; fi
for family in ip ip6; do
  for suffix in "" -save -restore; do
    ln -sf "/usr/sbin/${family}tables-${mode}${suffix}" "/usr/sbin/${family}tables${suffix}"
  done
done
exec "/usr/sbin/$(basename "$0")" "$@"
