#!/usr/bin/env bash
# Installs the Debian packages Lectern needs, only those missing. Usage: debian-deps.sh run|test
set -euo pipefail

# curl, openssl and ca-certificates fetch and check the studio's background model
# (scripts/fetch-mediapipe.sh) where npm is not installed.
run_pkgs=(gcc libc6-dev pkg-config libpocketsphinx-dev pocketsphinx-en-us
  apertium apertium-eng-spa apertium-eng-cat apertium-fr-es curl ca-certificates openssl)
# Tests also drive a real browser, make speech and Opus files themselves, publish over WHIP
# with GStreamer's webrtcbin (e2e/testdata/gst-whip-publish.py, through python3-gi) and read
# recordings back with ffprobe (ffmpeg). The store's tests run on PostgreSQL too (postgresql:
# the test setup starts its own server in a temporary directory).
test_pkgs=("${run_pkgs[@]}" chromium flite opus-tools sox espeak-ng postgresql
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-nice
  python3-gi gir1.2-gstreamer-1.0 gir1.2-gst-plugins-base-1.0 gir1.2-gst-plugins-bad-1.0 gir1.2-nice-0.1
  ffmpeg)

case "${1:-run}" in
  run) want=("${run_pkgs[@]}") ;;
  test) want=("${test_pkgs[@]}") ;;
  *) echo "usage: $0 run|test" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! command -v go >/dev/null 2>&1; then
  echo "Go 1.26 or newer is needed on PATH (e.g. /usr/local/go/bin); Debian 12's golang package is too old." >&2
  exit 1
fi
