# fnstress: build, test, lint and the everyday stress workflow.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

TARGET      ?= custom-metrics
CONCURRENCY ?= 5
DURATION    ?= 60s
GATEWAY     ?= http://127.0.0.1:8080
LISTEN      ?= 127.0.0.1:8080
BIN         := target/release/fnstress

## Scale-out and container settings.
SHARDS      ?= 3
VERSION     := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
IMAGE       ?= fnstress:$(VERSION)
ENGINE      ?= $(shell command -v podman || command -v docker)
STATIC_BIN  := target/x86_64-unknown-linux-gnu/release/fnstress

.PHONY: build release test lint stress serve bench bench-tools screenshots clean fuzz soak static image check-deploy \
	distributed

build:
	cargo build

## Quiet recipe lines: `make stress` prints only the report on stdout.
release:
	@cargo build --release

## The test command README gives; .ci/run runs exactly this.
test:
	cargo test --all-targets
	$(MAKE) --no-print-directory check-deploy

lint:
	cargo fmt --check
	cargo clippy --all-targets -- -D warnings

serve: release
	$(BIN) serve --listen $(LISTEN)

## Stress TARGET on GATEWAY. When nothing answers there, start the built-in gateway for the
## run and stop it afterwards (only the one started here).
stress: release
	@hostport=$$(echo '$(GATEWAY)' | sed -E 's#^[a-z]+://##; s#/.*$$##'); \
	host=$${hostport%:*}; port=$${hostport##*:}; [ "$$port" != "$$hostport" ] || port=80; \
	started=; \
	if ! (exec 3<>/dev/tcp/$$host/$$port) 2>/dev/null; then \
	  echo "fnstress: nothing answers at $(GATEWAY); starting the built-in gateway" >&2; \
	  $(BIN) serve --listen $$host:$$port & started=$$!; \
	  for _ in $$(seq 50); do (exec 3<>/dev/tcp/$$host/$$port) 2>/dev/null && break; sleep 0.1; done; \
	fi; \
	stop() { [ -z "$$started" ] || { kill -TERM $$started 2>/dev/null; wait $$started; }; \
	  started=; }; \
	trap stop EXIT; \
	rc=0; $(BIN) run --gateway '$(GATEWAY)' -t '$(TARGET)' -c '$(CONCURRENCY)' \
	  -z '$(DURATION)' || rc=$$?; \
	stop; exit $$rc

## Benchmarks that print figures: peers side by side (writes bench/RESULTS.md), the gateway's
## throughput, open-model accuracy, and the collector's intake (criterion).
bench: release bench-tools
	cargo build --release --example ceiling
	cd bench && python3 peers.py
	cd bench && python3 gateway.py
	cd bench && python3 rate.py
	cargo bench --bench collector

bench-tools:
	@missing=; for t in nginx wrk hey; do command -v $$t >/dev/null || [ -x /usr/sbin/$$t ] \
	  || missing="$$missing $$t"; done; \
	if [ -n "$$missing" ]; then apt-get update -qq && apt-get install -y -qq $$missing; fi
	@command -v oha >/dev/null || cargo install --locked oha

## Retake docs/dashboard.png and docs/report.png from a real run against the built-in gateway
## (needs chromium and `npm ci --prefix tests/browser`).
screenshots: release
	@tmp=$$(mktemp -d); \
	$(BIN) serve --listen 127.0.0.1:18080 --time-scale 0.5 2>/dev/null & gw=$$!; \
	trap 'kill $$gw 2>/dev/null || true; rm -rf "$$tmp"' EXIT; sleep 0.5; \
	$(BIN) run --gateway http://127.0.0.1:18080 -c 8 -z 20s -q --dashboard 127.0.0.1:19100 \
	  --html $$tmp/report.html >/dev/null & run=$$!; \
	sleep 12; \
	node tests/browser/check.mjs live http://127.0.0.1:19100/ docs/dashboard.png >/dev/null; \
	wait $$run; node tests/browser/check.mjs report $$tmp/report.html docs/report.png >/dev/null

## A static binary (glibc, static-pie) that runs in an empty image.
static:
	RUSTFLAGS="-C target-feature=+crt-static" cargo build --release --target x86_64-unknown-linux-gnu

## The container image from the static binary: no base image is pulled.
image: static
	@[ -n "$(ENGINE)" ] || { echo "fnstress: make image needs podman or docker" >&2; exit 1; }
	mkdir -p target/image
	strip -o target/image/fnstress $(STATIC_BIN) 2>/dev/null || cp $(STATIC_BIN) target/image/fnstress
	$(ENGINE) build -f deploy/Dockerfile -t $(IMAGE) target/image

## Lints the Dockerfiles, validates the Kubernetes manifests, builds the image and runs it.
check-deploy:
	IMAGE='$(IMAGE)' deploy/check-deploy.sh

## SHARDS shard processes against the built-in gateway on a free port, merged into one
## report; fails unless the merged completed count equals the gateway's execution count.
## FNSTRESS_BIN=path skips the release build.
distributed: $(if $(FNSTRESS_BIN),,release)
	FNSTRESS='$(or $(FNSTRESS_BIN),$(BIN))' SHARDS='$(SHARDS)' CONCURRENCY='$(CONCURRENCY)' \
	  DURATION='$(DURATION)' OUT='$(OUT)' THRESHOLDS='$(THRESHOLDS)' bench/distributed.sh

clean:
	cargo clean

## Fuzz the JSON event/config parser and the payload-file parser for FUZZ_SECONDS each
## (needs a nightly toolchain and cargo-fuzz; not part of CI).
FUZZ_SECONDS ?= 60
fuzz:
	cd fuzz && for t in config_json payload_lines; do \
	  mkdir -p corpus/$$t; \
	  cargo +nightly fuzz run $$t corpus/$$t seeds/$$t -- \
	    -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=10 -rss_limit_mb=2048; \
	done

## Ten minutes at 256 workers against the built-in gateway, printing fnstress's RSS and open
## descriptors every 30 s (SOAK_SECONDS, SOAK_CONCURRENCY to change).
soak: release
	bench/soak.sh
