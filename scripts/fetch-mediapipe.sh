#!/usr/bin/env bash
# Fetches MediaPipe's selfie-segmentation model and WASM (npm package
# @mediapipe/selfie_segmentation) into web/static/mediapipe/, which is git-ignored and embedded
# into the binary with the rest of web/static: the studio's virtual background and blur run on
# the presenter's machine from files this server serves, never from a CDN.
# A failed fetch is not an error: the binary then has no model and the studio hides the option.
set -uo pipefail
cd "$(dirname "$0")/.."

pkg=@mediapipe/selfie_segmentation
version=0.1.1675465747
# The registry's sha512 for this exact version, checked when npm is not there to check it.
integrity='IxYxNhwE5VwOm52L1yoFWYLP7q9Pd+NJjzOC5tlepfvEGaY3o9hslhUrx9BgseqdfZtKSDtd/4NfCSMjNzQalA=='
tarball="https://registry.npmjs.org/$pkg/-/selfie_segmentation-$version.tgz"
dest=web/static/mediapipe
# Only what the browser loads: the loader script, the graph, both models and both WASM
# builds (the loader picks SIMD or not by what the browser supports).
files=(selfie_segmentation.js selfie_segmentation.binarypb selfie_segmentation.tflite
  selfie_segmentation_landscape.tflite
  selfie_segmentation_solution_simd_wasm_bin.js selfie_segmentation_solution_simd_wasm_bin.wasm
  selfie_segmentation_solution_simd_wasm_bin.data
  selfie_segmentation_solution_wasm_bin.js selfie_segmentation_solution_wasm_bin.wasm)

if [ "$(cat "$dest/VERSION" 2>/dev/null)" = "$version" ]; then
  exit 0
fi

warn() {
  echo "warning: $*; the studio will not offer virtual backgrounds or blur" >&2
  exit 0
}

tmp=$(mktemp -d) || warn "no temporary directory"
trap 'rm -rf "$tmp"' EXIT
tgz="$tmp/package.tgz"
if command -v npm >/dev/null 2>&1; then
  # npm pack checks the tarball against the registry's integrity itself.
  name=$(cd "$tmp" && npm pack --silent "$pkg@$version" 2>/dev/null | tail -n1) ||
    warn "npm could not fetch $pkg@$version"
  mv "$tmp/$name" "$tgz" 2>/dev/null || warn "npm pack gave no tarball for $pkg@$version"
elif command -v curl >/dev/null 2>&1; then
  curl -fsSL --max-time 120 -o "$tgz" "$tarball" || warn "could not download $tarball"
  got=$(openssl dgst -sha512 -binary "$tgz" 2>/dev/null | base64 -w0)
  [ "$got" = "$integrity" ] || warn "$tarball does not match the registry's checksum"
else
  warn "neither npm nor curl is installed to fetch $pkg"
fi

tar -xzf "$tgz" -C "$tmp" || warn "could not unpack $pkg"
rm -rf "$dest.new"
mkdir -p "$dest.new" || warn "cannot write $dest"
for f in "${files[@]}"; do
  install -m 0644 "$tmp/package/$f" "$dest.new/$f" || { rm -rf "$dest.new"; warn "$pkg@$version has no $f"; }
done
echo "$version" >"$dest.new/VERSION"
rm -rf "$dest"
mv "$dest.new" "$dest" || warn "cannot write $dest"
echo "fetched $pkg@$version into $dest"
