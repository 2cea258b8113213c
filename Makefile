# kridik: `make demo` scans the bundled insecure mesh, `make test` runs every test.
CARGO ?= cargo
KRIDIK := $(CARGO) run --quiet -p kridik --bin kridik --

.PHONY: all build release demo demo-hardened test lint bench docs wasm-target clean

all: build

# The guest components (checks, test components) are built for wasm32-wasip2 by host/build.rs.
wasm-target:
	@rustup target list --installed | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2

build: wasm-target
	$(CARGO) build -p kridik

release: wasm-target
	$(CARGO) build --release -p kridik
	@echo "binary: target/release/kridik (the built-in checks are embedded)"

# Exit code 1 means "findings at or above --fail-on": expected for this mesh.
demo: build
	$(KRIDIK) scan -f examples/insecure-mesh; code=$$?; [ $$code -le 1 ] || exit $$code

demo-hardened: build
	$(KRIDIK) scan -f examples/hardened-mesh

# Host tests (end to end through the binary), then the guest crates' own unit
# tests on the host target (--lib: their cdylib cannot link natively).
test: wasm-target
	$(CARGO) test -p kridik
	$(CARGO) test --workspace --exclude kridik --lib

lint: wasm-target
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy -p kridik --all-targets -- -D warnings
	$(CARGO) clippy --target wasm32-wasip2 --workspace --exclude kridik -- -D warnings

# docs/checks.md is the checks' own metadata; a test fails when it is stale.
docs: build
	$(KRIDIK) checks --format markdown > docs/checks.md

# Parse and scan time, per-check time, peak memory, cold vs warm start on generated meshes.
bench: wasm-target
	$(CARGO) bench -p kridik --bench scan

clean:
	$(CARGO) clean
