#!/usr/bin/env bash
# The sharded flow of deploy/kubernetes/ on one machine: start the built-in gateway on a free
# loopback port, run SHARDS `fnstress run --shard I/SHARDS` processes side by side against
# it, merge their reports with `fnstress report`, and check that the merged completed count
# equals the number of executions the gateway counted.
#
# Settings (environment): FNSTRESS (the binary), SHARDS, CONCURRENCY (workers of the whole
# run, split between shards), DURATION, OUT (directory for the reports; a temporary one by
# default), THRESHOLDS (space-separated --threshold expressions for the merge).
set -euo pipefail

bin=${FNSTRESS:-target/release/fnstress}
shards=${SHARDS:-3}
concurrency=${CONCURRENCY:-6}
duration=${DURATION:-10s}
out=${OUT:-$(mktemp -d)}
mkdir -p "$out"

say() { echo "fnstress: $*" >&2; }

"$bin" serve --listen 127.0.0.1:0 --time-scale 0.1 2>"$out/gateway.log" &
gateway=$!
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  kill -TERM "$gateway" 2>/dev/null || true
  wait "$gateway" 2>/dev/null || true
}
trap cleanup EXIT

addr=
for _ in $(seq 100); do
  addr=$(sed -n 's#.*gateway listening on http://\([0-9.:]*\).*#\1#p' "$out/gateway.log")
  [ -n "$addr" ] && break
  kill -0 "$gateway" 2>/dev/null || { cat "$out/gateway.log" >&2; exit 1; }
  sleep 0.1
done
[ -n "$addr" ] || { say "the gateway did not start"; exit 1; }
say "gateway at http://$addr; running $shards shards for $duration with $concurrency workers"

for i in $(seq 0 $((shards - 1))); do
  "$bin" run --gateway "http://$addr" --shard "$i/$shards" -c "$concurrency" \
    --split-concurrency -z "$duration" -q --json "$out/shard-$i.json" -o json \
    >/dev/null 2>"$out/shard-$i.log" &
  pids+=($!)
done
failed=0
for p in "${pids[@]}"; do wait "$p" || failed=1; done
pids=()
if [ "$failed" -ne 0 ]; then
  cat "$out"/shard-*.log >&2
  say "a shard failed"
  exit 1
fi

files=()
for i in $(seq 0 $((shards - 1))); do files+=("$out/shard-$i.json"); done
args=()
for t in ${THRESHOLDS:-}; do args+=(--threshold "$t"); done
code=0
"$bin" report "${files[@]}" --json "$out/merged.json" "${args[@]}" || code=$?

# The gateway's own count, over a plain HTTP/1.0 request so that no client tool is needed.
exec 3<>"/dev/tcp/${addr%:*}/${addr##*:}"
printf 'GET /metrics/custom-metrics HTTP/1.0\r\nHost: %s\r\n\r\n' "$addr" >&3
sed '1,/^\r\{0,1\}$/d' <&3 >"$out/gateway-metrics.json"
exec 3<&-

# Both files are written by fnstress: the first "completed" after "totals" and the first
# "execution_count" are the whole-run numbers.
completed=$(tr -d ' \n' <"$out/merged.json" |
  sed -n 's/.*"totals":{[^}]*"completed":\([0-9]*\).*/\1/p')
executions=$(tr -d ' \n' <"$out/gateway-metrics.json" | grep -o '"execution_count":[0-9]*' |
  head -1 | cut -d: -f2)
say "merged report: $completed completed; gateway: $executions executions; reports in $out"
if [ "$completed" != "$executions" ]; then
  say "the merged completed count does not match the gateway's execution count"
  exit 1
fi
exit "$code"
