#!/bin/sh
# Runs a command inside a fresh network namespace that has only the loopback interface (up),
# so a browser or server started by the command can reach 127.0.0.1 and nothing else.
#
#   tests/interop/netns.sh node tests/interop/run.mjs selftest
#
# Tries `unshare --net` (root), then `unshare --map-root-user --net` (unprivileged user
# namespaces). Without either, it runs the command only if the current namespace already has
# nothing but `lo`; otherwise it refuses (exit 3) rather than let traffic leave the machine.
set -eu

inner='ip link set lo up && RTCPEER_NETNS=1 exec "$@"'
if unshare --net true 2>/dev/null; then
    exec unshare --net sh -c "$inner" sh "$@"
fi
if unshare --map-root-user --net true 2>/dev/null; then
    exec unshare --map-root-user --net sh -c "$inner" sh "$@"
fi
if [ "$(ip -o link show 2>/dev/null | cut -d: -f2 | tr -d ' ')" = "lo" ]; then
    RTCPEER_NETNS=1 exec "$@"
fi
echo "netns.sh: cannot create a loopback-only network namespace and the current one has" \
     "other interfaces; refusing to run: $*" >&2
exit 3
