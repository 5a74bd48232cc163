#!/bin/sh
# Records real SDP offers/answers from Debian's headless Chromium into rtcpeer's sdp fixtures.
#
#   tests/interop/record_chromium_sdp.sh [OUTPUT_DIR]
#
# Needs `chromium` (apt-get install -y chromium), `python3` and `unshare` (run as root).
# Chromium runs in a fresh network namespace that has only loopback, so nothing leaves the
# machine and the recorded candidates are loopback addresses. hold_server.py serves the page
# on 127.0.0.1 inside that namespace and holds the dump until the page has finished. Writes chromium-offer.sdp, chromium-answer.sdp
# and chromium-datachannel-offer.sdp (CRLF line endings, exactly as the browser produced them).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-"$here/../../core/src/sdp/fixtures"}
page="$here/record_chromium_sdp.html"
profile=$(mktemp -d)
dom=$(mktemp)
trap 'rm -rf "$profile" "$dom"' EXIT

command -v chromium >/dev/null || { echo "chromium not installed" >&2; exit 1; }

unshare --net sh -c '
  ip link set lo up
  cd "$(dirname "$2")"
  python3 hold_server.py 8765 &
  server=$!
  sleep 1
  chromium --headless --no-sandbox --disable-gpu \
    --use-fake-device-for-media-stream --use-fake-ui-for-media-stream \
    --allow-loopback-in-peer-connection \
    --disable-background-networking --disable-component-update --disable-sync \
    --no-first-run --user-data-dir="$1" --virtual-time-budget=20000 \
    --dump-dom "http://127.0.0.1:8765/$(basename "$2")" 2>/dev/null
  kill "$server"
' sh "$profile" "$page" >"$dom"

grep -q '<pre id="status">done</pre>' "$dom" || {
  echo "recording failed:" >&2
  grep -o '<pre id="status">[^<]*</pre>' "$dom" >&2 || cat "$dom" >&2
  exit 1
}

extract() { # $1 = element id, $2 = output file
  sed -n "s|.*<pre id=\"$1\">\([A-Za-z0-9+/=]*\)</pre>.*|\1|p" "$dom" | base64 -d >"$out/$2"
  [ -s "$out/$2" ] || { echo "no SDP for $1" >&2; exit 1; }
  echo "wrote $out/$2 ($(wc -l <"$out/$2") lines)"
}

mkdir -p "$out"
extract offer chromium-offer.sdp
extract answer chromium-answer.sdp
extract datachannel-offer chromium-datachannel-offer.sdp
