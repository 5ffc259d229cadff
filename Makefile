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
OIDC_FOLDER := tests/e2e/oidc
OIDC := $(OIDC_FOLDER)/node_modules/oidc-provider/package.json

.PHONY: run test admin migrate seed bench bench-sign-in bench-reports bench-dashboard bench-load bench-ui bench-bundle bench-disclosures archive dormant-accounts rollup notices access-review-reminders send-mail sweep-blobs rotate-blob-key encrypt-blobs blob-key previews ingest import-users verify-audit clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] < (3, 11) and "Python 3.11 or newer is required")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt $(VENV)/.runtime | $(AXE) $(OIDC)
	$(BIN)/pip install --quiet -r requirements-dev.txt
	@touch $@

# axe-core for the accessibility browser test, exactly as package-lock.json pins it. Without npm
# the test skips with the reason (fails under REQUIRE_BROWSER=1); see docs/accessibility.md.
$(AXE): $(AXE_FOLDER)/package.json $(AXE_FOLDER)/package-lock.json
	@if command -v npm >/dev/null; then cd $(AXE_FOLDER) && npm ci --no-audit --no-fund && touch node_modules/axe-core/axe.min.js; \
	else echo "npm not found: the accessibility test will be skipped (apt-get install -y npm)"; fi

# oidc-provider, the OpenID provider the staff sign-in browser tests run on localhost, exactly as
# package-lock.json pins it. Without npm those tests skip with the reason (fail under REQUIRE_BROWSER=1).
$(OIDC): $(OIDC_FOLDER)/package.json $(OIDC_FOLDER)/package-lock.json
	@if command -v npm >/dev/null; then cd $(OIDC_FOLDER) && npm ci --no-audit --no-fund && touch node_modules/oidc-provider/package.json; \
	else echo "npm not found: the staff sign-in browser tests will be skipped (apt-get install -y npm)"; fi

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

# 1,000 scan-sized PDFs (about 1 GB) streamed as one ZIP from the real server; about 2 GB of scratch disk.
bench-bundle: $(VENV)/.dev
	$(BIN)/python -m bench.bundle_download --reports $(or $(REPORTS),1000)

# A patient's accounting of disclosures on PostgreSQL at 10M reports and 50M audit events, in a
# database of its own (benchdisclosures; --reuse keeps it for the next run). About 25 GB of disk.
bench-disclosures: $(VENV)/.dev
	$(BIN)/python -m bench.disclosures --reports $(or $(REPORTS),10000000) --events $(or $(EVENTS),50000000) --reuse

bench-load: $(VENV)/.dev
	$(BIN)/python -m bench.load --compare runner.postScriptGC=true

# Keeps its scratch database in /tmp/benchui for the next run (delete it, or drop --reuse, to fill again).
bench-ui: $(VENV)/.dev
	$(BIN)/python -m bench.reports_ui --reports $(or $(REPORTS),1000000) --reuse

archive: $(VENV)/.runtime
	$(BIN)/python -m commands.archive

dormant-accounts: $(VENV)/.runtime
	$(BIN)/python -m commands.dormant_accounts

rollup: $(VENV)/.runtime
	$(BIN)/python -m commands.rollup

notices: $(VENV)/.runtime
	$(BIN)/python -m commands.notices

access-review-reminders: $(VENV)/.runtime
	$(BIN)/python -m commands.access_review_reminders

send-mail: $(VENV)/.runtime
	$(BIN)/python -m commands.send_mail

sweep-blobs: $(VENV)/.runtime
	$(BIN)/python -m commands.sweep_blobs

# Report files' keys (docs/operations.md#report-file-keys): a new master key printed, every file's
# data key re-wrapped with the current one (resumable), clear files from before encryption sealed.
blob-key: $(VENV)/.runtime
	@$(BIN)/python -c 'from db.blob_keys import new_key_text; print(new_key_text())'

rotate-blob-key: $(VENV)/.runtime
	$(BIN)/python -m commands.rotate_blob_key

encrypt-blobs: $(VENV)/.runtime
	$(BIN)/python -m commands.encrypt_blobs

previews: $(VENV)/.runtime
	$(BIN)/python -m commands.previews

ingest: $(VENV)/.runtime
	$(BIN)/python -m commands.ingest "$(FOLDER)" --as "$(AS)"

# People from a streamlit-authenticator config.yaml, passwords kept (docs/operations.md).
import-users: $(VENV)/.runtime
	$(BIN)/python -m commands.import_users "$(FILE)" $(if $(AS),--as "$(AS)") $(if $(MAPPING),--mapping "$(MAPPING)") $(if $(filter-out 0,$(DRY_RUN)),--dry-run) $(IMPORT_ARGS)

verify-audit: $(VENV)/.runtime
	$(BIN)/python -m commands.verify_audit

clean:
	rm -rf $(VENV)
