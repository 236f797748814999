#!/usr/bin/env bash
# Offline checks of what deploy/ ships: hadolint on the Dockerfiles, kubernetes-validate
# --strict on the manifests, then the image is built with podman (`make image`) and run:
# `fnstress --help` inside it, and a run that gets SIGTERM as PID 1 of its container must
# stop gracefully (exit 0, full report, stop reason "signal").
# A missing tool fails the check when CI is set; elsewhere its step is skipped with a notice.
set -euo pipefail
cd "$(dirname "$0")/.."

image=${IMAGE:-fnstress:test}
podman=(podman --runtime runc)
limits=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)

have() {
  if command -v "$1" >/dev/null 2>&1; then return 0; fi
  if [ -n "${CI:-}" ]; then
    echo "fnstress: check-deploy: '$1' is missing (.ci/run installs it)" >&2
    exit 1
  fi
  echo "fnstress: check-deploy: '$1' is not installed; skipping its check" >&2
  return 1
}

if have hadolint; then
  hadolint deploy/Dockerfile deploy/Dockerfile.multistage
  echo "check-deploy: hadolint passed" >&2
fi

if have kubernetes-validate; then
  kubernetes-validate --strict --quiet deploy/kubernetes/*.yaml
  echo "check-deploy: kubernetes-validate --strict passed" >&2
fi

have podman || exit 0
have runc || exit 0
make --no-print-directory image ENGINE=podman IMAGE="$image"

help=$("${podman[@]}" run --rm "${limits[@]}" "$image" --help)
case "$help" in
  "fnstress: stress-test serverless functions"*) ;;
  *) echo "fnstress: check-deploy: unexpected --help output: $help" >&2; exit 1 ;;
esac
echo "check-deploy: the image runs fnstress --help" >&2

# SIGTERM to PID 1: the gateway runs on the host, the run in a container on the host network.
work=$(mktemp -d)
container=
cleanup() {
  [ -z "$container" ] || "${podman[@]}" rm -f "$container" >/dev/null 2>&1 || true
  [ -z "${gateway:-}" ] || kill -TERM "$gateway" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
target/image/fnstress serve --listen 127.0.0.1:0 --time-scale 0.1 2>"$work/gateway.log" &
gateway=$!
addr=
for _ in $(seq 100); do
  addr=$(sed -n 's#.*gateway listening on http://\([0-9.:]*\).*#\1#p' "$work/gateway.log")
  [ -n "$addr" ] && break
  sleep 0.1
done
[ -n "$addr" ] || { echo "fnstress: check-deploy: the gateway did not start" >&2; exit 1; }
container=$("${podman[@]}" run -d "${limits[@]}" --network host \
  -e FNSTRESS_EVENT='{"concurrency": 2, "duration": "60s", "output": "json", "quiet": true}' \
  "$image" run --gateway "http://$addr")
sleep 2
"${podman[@]}" kill --signal TERM "$container" >/dev/null
code=$(timeout 30 "${podman[@]}" wait "$container")
"${podman[@]}" logs "$container" >"$work/report.json" 2>"$work/stderr.log"
if [ "$code" != 0 ] || ! grep -q '"stop_reason": "signal"' "$work/report.json"; then
  echo "fnstress: check-deploy: SIGTERM to PID 1 gave exit $code:" >&2
  cat "$work/stderr.log" >&2
  exit 1
fi
echo "check-deploy: SIGTERM to fnstress as PID 1 stopped the run gracefully (exit 0)" >&2
