#!/usr/bin/env bash
# Installs what the interop tests need on a fresh Debian machine, and nothing that is already
# there: the `openssl` CLI (DTLS interop peer), `unshare` and `ip` (loopback-only network
# namespaces), Debian's `chromium`, `firefox-esr`, `coturn`, `ffmpeg` and Node.js, aiortc from
# PyPI in tests/interop/.venv, and playwright-core and puppeteer-core in tests/interop
# (reinstalled only when package-lock.json changes). Needs root for apt-get and network access for the
# package registries; run it before entering a network namespace.
#
# `.ci/run` calls it; the interop tests call it themselves when something is missing, so that
# `cargo test --workspace --all-features` works on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_updated=""
apt_install() {
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
        echo "provision.sh: need root and apt-get to install $*; install it by hand" >&2
        exit 1
    fi
    if [ -z "$apt_updated" ]; then
        apt-get update -qq
        apt_updated=1
    fi
    echo "provision.sh: installing $*" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

command -v openssl >/dev/null || apt_install openssl
command -v unshare >/dev/null || apt_install util-linux
command -v ip >/dev/null || apt_install iproute2
command -v chromium >/dev/null || apt_install chromium
command -v turnserver >/dev/null || apt_install coturn
command -v firefox-esr >/dev/null || apt_install firefox-esr
command -v node >/dev/null || apt_install nodejs npm
command -v ffmpeg >/dev/null || apt_install ffmpeg

# aiortc (PyPI) in its own virtual environment, for the aiortc interop tests.
venv=tests/interop/.venv
if ! "$venv/bin/python" -c 'import aiortc' 2>/dev/null; then
    echo "provision.sh: installing aiortc into $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -r tests/interop/requirements.txt >&2
fi

lock_sum=$(sha256sum tests/interop/package-lock.json | cut -d' ' -f1)
if [ "$(cat tests/interop/node_modules/.rtcpeer-lock 2>/dev/null)" != "$lock_sum" ]; then
    echo "provision.sh: npm ci in tests/interop" >&2
    (cd tests/interop && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    echo "$lock_sum" >tests/interop/node_modules/.rtcpeer-lock
fi
