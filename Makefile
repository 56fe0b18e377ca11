# The project's test entry point: `make test` installs what the tests need (idempotently,
# into target/) and runs the whole suite. CI runs it through .ci/run.

.PHONY: test setup nextest

test: setup nextest

# Test-only tools that the suite drives; nothing here is installed system-wide.
setup:
	@bash tools/setup-test-env

nextest:
	@if command -v cargo-nextest >/dev/null 2>&1; then \
		cargo nextest run --no-fail-fast; \
	else \
		cargo test --no-fail-fast; \
	fi
	cargo test --doc
