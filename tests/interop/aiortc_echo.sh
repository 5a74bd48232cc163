#!/bin/sh
# Starts the `echo` server on 127.0.0.1 and runs aiortc_client.py against it; prints the
# client's JSON line and exits with its status. Run it inside a loopback-only namespace:
#   tests/interop/netns.sh tests/interop/aiortc_echo.sh target/debug/echo tokio echo
set -u
server=$1 runtime=$2 media=$3
here=$(dirname "$0")
out=$(mktemp)
"$server" --listen 127.0.0.1:0 --runtime "$runtime" --media "$media" >"$out" 2>/dev/null &
pid=$!
url=""
for _ in $(seq 1 300); do
    url=$(grep -o 'http://[0-9.:]*' "$out" | head -n 1)
    [ -n "$url" ] && break
    sleep 0.1
done
rc=0
if [ -z "$url" ]; then
    echo '{"ok": false, "failures": ["echo did not announce its URL"]}'
    rc=1
else
    "$here/.venv/bin/python" "$here/aiortc_client.py" --server "$url" --media "$media" || rc=$?
fi
kill "$pid" 2>/dev/null
rm -f "$out"
exit "$rc"
