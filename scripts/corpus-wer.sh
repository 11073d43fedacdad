#!/usr/bin/env bash
# Word error rate of `lectern transcribe` (the live pipeline: VAD, segmentation, pool, engine)
# on the real speech clips in ../shared/speech. Usage: corpus-wer.sh [lectern binary] [engine flags...]
set -euo pipefail
bin="${1:-bin/lectern}"; shift || true
speech="$(cd "$(dirname "$0")/../.." && pwd)/shared/speech"
[ -d "$speech" ] || speech="$(cd "$(dirname "$0")/.." && pwd)/../shared/speech"
hyps="$(mktemp)"
trap 'rm -f "$hyps"' EXIT
start=$(date +%s.%N)
tail -n +2 "$speech/manifest.tsv" | while IFS=$'\t' read -r id file _rest; do
  text=$("$bin" transcribe "$speech/$file" --format txt --quiet "$@" | tr '\n' ' ')
  printf '%s\t%s\n' "$id" "$text" >> "$hyps"
done
end=$(date +%s.%N)
audio=$(tail -n +2 "$speech/manifest.tsv" | awk -F'\t' '{s += $3} END {print s}')
python3 "$speech/wer.py" "$speech/manifest.tsv" "$hyps" | tail -1
awk -v a="$audio" -v s="$start" -v e="$end" 'BEGIN {printf "audio %.1f s, wall %.1f s, real-time factor %.2f (one process per clip, model load included)\n", a, e-s, (e-s)/a}'
