#!/usr/bin/env bash
# Soak: fnstress at SOAK_CONCURRENCY workers for SOAK_SECONDS against the built-in gateway
# (demo waits scaled by 0.1), printing fnstress's resident memory and open descriptors every
# SOAK_EVERY seconds. Both must stay flat: after the first minute, within 10% of each other.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${BIN:-target/release/fnstress}
SECONDS_TOTAL=${SOAK_SECONDS:-600}
CONCURRENCY=${SOAK_CONCURRENCY:-256}
EVERY=${SOAK_EVERY:-30}
dir=$(mktemp -d)
gateway_pid=
run_pid=
cleanup() {
  [ -z "$run_pid" ] || kill -INT "$run_pid" 2>/dev/null || true
  [ -z "$gateway_pid" ] || kill -TERM "$gateway_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT

"$BIN" serve --listen 127.0.0.1:0 --time-scale 0.1 2>"$dir/gateway.log" &
gateway_pid=$!
url=
for _ in $(seq 100); do
  url=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$dir/gateway.log" | head -1 || true)
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { echo "soak: the gateway did not start" >&2; cat "$dir/gateway.log" >&2; exit 1; }

"$BIN" run --gateway "$url" -c "$CONCURRENCY" -z "${SECONDS_TOTAL}s" -q \
  --json "$dir/soak.json" >"$dir/report.txt" &
run_pid=$!
echo "soak: $CONCURRENCY workers for ${SECONDS_TOTAL}s against $url (fnstress pid $run_pid)"
printf '%8s %12s %8s\n' elapsed rss_kib fds
samples=()
for ((t = EVERY; t <= SECONDS_TOTAL; t += EVERY)); do
  sleep "$EVERY"
  kill -0 "$run_pid" 2>/dev/null || break
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$run_pid/status")
  fds=$(ls "/proc/$run_pid/fd" | wc -l)
  printf '%7ss %12s %8s\n' "$t" "$rss" "$fds"
  [ "$t" -gt 60 ] && samples+=("$rss $fds")
done
wait "$run_pid"
run_pid=
grep -E '^  (started|completed|success|errors|cancelled)' "$dir/report.txt" || true

# Flat: the largest sample after the first minute is within 10% of the smallest.
if [ ${#samples[@]} -eq 0 ]; then
  echo "soak: too short to judge (needs samples after the first minute)"
  exit 0
fi
printf '%s\n' "${samples[@]}" | awk '
  NR == 1 { rmin = rmax = $1; fmin = fmax = $2 }
  {
    if ($1 < rmin) rmin = $1; if ($1 > rmax) rmax = $1
    if ($2 < fmin) fmin = $2; if ($2 > fmax) fmax = $2
  }
  END {
    ok = rmax <= rmin * 1.1 && fmax <= fmin * 1.1
    printf "soak: after the first minute rss %d..%d KiB, fds %d..%d: %s\n",
      rmin, rmax, fmin, fmax, ok ? "flat" : "NOT flat"
    exit ok ? 0 : 1
  }'
