# ResultsDesk: `make run` starts the portal, `make test` runs every test. See README.md.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501
ADDRESS ?= 127.0.0.1
# The suite runs in this many processes: each test file in one, all browser tests in one.
TEST_PROCESSES ?= 2
AXE_FOLDER := tests/e2e/accessibility
AXE := $(AXE_FOLDER)/node_modules/axe-core/axe.min.js

.PHONY: run test admin migrate seed bench bench-sign-in bench-reports bench-dashboard bench-load bench-ui archive rollup notices send-mail sweep-blobs previews ingest verify-audit clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] < (3, 11) and "Python 3.11 or newer is required")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt $(VENV)/.runtime | $(AXE)
	$(BIN)/pip install --quiet -r requirements-dev.txt
	@touch $@

# axe-core for the accessibility browser test, exactly as package-lock.json pins it. Without npm
# the test skips with the reason (fails under REQUIRE_BROWSER=1); see docs/accessibility.md.
$(AXE): $(AXE_FOLDER)/package.json $(AXE_FOLDER)/package-lock.json
	@if command -v npm >/dev/null; then cd $(AXE_FOLDER) && npm ci --no-audit --no-fund && touch node_modules/axe-core/axe.min.js; \
	else echo "npm not found: the accessibility test will be skipped (apt-get install -y npm)"; fi

run: $(VENV)/.runtime
	$(BIN)/python -m commands.startup
	$(BIN)/streamlit run portal.py --server.port $(PORT) --server.address $(ADDRESS)

test: $(VENV)/.dev
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest -n $(TEST_PROCESSES) --dist loadgroup

admin: $(VENV)/.runtime
	$(BIN)/python -m commands.first_admin

migrate: $(VENV)/.runtime
	$(BIN)/python -m commands.migrate

seed: $(VENV)/.runtime
	$(BIN)/python -m commands.seed

bench: $(VENV)/.dev
	$(BIN)/python -m bench $(BENCH_ARGS)

bench-sign-in: $(VENV)/.dev
	$(BIN)/python -m bench.sign_in

bench-reports: $(VENV)/.dev
	$(BIN)/python -m bench.reports --reports $(or $(REPORTS),1000000)

bench-dashboard: $(VENV)/.dev
	$(BIN)/python -m bench.dashboard

bench-load: $(VENV)/.dev
	$(BIN)/python -m bench.load --compare runner.postScriptGC=true

# Keeps its scratch database in /tmp/benchui for the next run (delete it, or drop --reuse, to fill again).
bench-ui: $(VENV)/.dev
	$(BIN)/python -m bench.reports_ui --reports $(or $(REPORTS),1000000) --reuse

archive: $(VENV)/.runtime
	$(BIN)/python -m commands.archive

rollup: $(VENV)/.runtime
	$(BIN)/python -m commands.rollup

notices: $(VENV)/.runtime
	$(BIN)/python -m commands.notices

send-mail: $(VENV)/.runtime
	$(BIN)/python -m commands.send_mail

sweep-blobs: $(VENV)/.runtime
	$(BIN)/python -m commands.sweep_blobs

previews: $(VENV)/.runtime
	$(BIN)/python -m commands.previews

ingest: $(VENV)/.runtime
	$(BIN)/python -m commands.ingest "$(FOLDER)" --as "$(AS)"

verify-audit: $(VENV)/.runtime
	$(BIN)/python -m commands.verify_audit

clean:
	rm -rf $(VENV)
