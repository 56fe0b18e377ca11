# The project's test entry point: `make test` installs what the tests need (idempotently,
# into target/) and runs the whole suite, then sweeps everything the suite's servers wrote
# for every secret its emulators issued (tests/e2e/secrets_sweep.rs). CI runs it through .ci/run.

.PHONY: test setup nextest sweep

# Where the suite keeps every byte its sfmcp processes write and every secret its emulators
# issue (tests/e2e/common/capture.rs); under the target directory, emptied at each run.
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
SFMCP_E2E_CAPTURE := $(abspath $(TARGET_DIR))/e2e-capture
export SFMCP_E2E_CAPTURE
export SFMCP_EMULATOR_SECRETS_DIR := $(SFMCP_E2E_CAPTURE)/secrets

# One after the other even under `make -j`: the sweep reads what the suite wrote.
test: setup
	@$(MAKE) --no-print-directory nextest
	@$(MAKE) --no-print-directory sweep

# What the suite drives: Debian packages (nginx, Chromium; installed with apt when missing,
# which needs root or sudo), then test-only tools under target/test-env.
setup:
	@bash tools/setup-system-deps
	@bash tools/setup-test-env

# The sweep is #[ignore]d, so the main run leaves it out.
nextest:
	rm -rf "$(SFMCP_E2E_CAPTURE)"
	@if command -v cargo-nextest >/dev/null 2>&1; then \
		cargo nextest run --no-fail-fast; \
	else \
		cargo test --no-fail-fast; \
	fi
	cargo test --doc

# After the whole suite: fails on any secret in the capture, or on a capture too thin to
# prove anything.
sweep:
	@if command -v cargo-nextest >/dev/null 2>&1; then \
		cargo nextest run --test e2e --run-ignored only --no-capture -E 'test(/^secrets_sweep::/)'; \
	else \
		cargo test --test e2e -- --ignored --nocapture secrets_sweep::; \
	fi
