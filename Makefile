# The commands people type daily. `make run` and `make test` are the two in README.md.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test security scanners lint format install migrate seed stop-db lock bench bench-audit bench-all messages api-schema

# Install (only when the lock file changed), migrate, seed the demo, serve. Unless
# STRIPE_API_BASE is set, the local Stripe (tests/stripe_server: test cards, nothing charged)
# runs beside the portal on 127.0.0.1:12111 and stops with it; seed_billing_demo connects
# Springfield to it.
LOCAL_STRIPE := http://127.0.0.1:12111
run: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@if [ -z "$$STRIPE_API_BASE" ]; then \
		$(BIN)/python -m tests.stripe_server --port 12111 & stripe_pid=$$!; \
		trap 'kill $$stripe_pid 2>/dev/null' EXIT INT TERM; \
		export STRIPE_API_BASE=$(LOCAL_STRIPE); sleep 1; \
	fi; \
	$(BIN)/python manage.py seed_billing_demo; \
	$(BIN)/python manage.py runserver 127.0.0.1:8000

# Lint, format check, type check (mypy, baseline in mypy-baseline.txt), the security gate,
# and the whole test suite, against a real PostgreSQL; then the date-sensitive tests again
# under faked clocks.
test: $(STAMP)
	scripts/ensure-system-packages test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python scripts/typecheck
	$(BIN)/python -m pytest -q tests/security
	$(BIN)/python -m pytest --ignore=tests/security
	$(BIN)/python scripts/test-clocks

# The CI security gate alone (under a minute; also the first test step of `make test`): bandit
# on the product code (pyproject.toml [tool.bandit]), the portal's semgrep rules
# (tests/security/semgrep/portal.yml: tenant models queried outside the access modules;
# mark_safe, |safe, csrf_exempt and raw SQL without a reason), `check --deploy` under
# production settings failing on any warning, and `makemigrations --check`.
security: $(STAMP)
	$(BIN)/python -m pytest -q tests/security

# The attackers' scanners alone (five to seven minutes; `make test` runs them with the rest):
# sqlmap and wapiti against a live server on loopback (tests/scanners, docs/security.md
# "Scanners"). REQUIRE_SERVICES=1 makes a missing scanner a failure instead of a skip.
scanners: $(STAMP)
	scripts/ensure-system-packages test
	$(BIN)/python -m pytest -q tests/scanners

# The tools the tests run as separate programs (schemathesis, pip-audit) live in their own
# environment, .venv-tools: their pins clash with the portal's (requirements-tools.in).
TOOLS := .venv-tools
$(STAMP): requirements.txt requirements-dev.txt requirements-tools.txt
	scripts/ensure-system-packages build
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-dev.txt
	test -d $(TOOLS) || $(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-tools.txt
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrate: $(STAMP)
	$(BIN)/python manage.py migrate --noinput

# The committed OpenAPI schema of /api/v1/ (tests/api/test_schema.py fails when it drifts).
api-schema: $(STAMP)
	$(BIN)/python manage.py spectacular --validate --fail-on-warn --file api/schema.yaml

seed: $(STAMP)
	$(BIN)/python manage.py seed_demo

# Stop the embedded PostgreSQL server (it keeps running between commands to start fast).
stop-db: $(STAMP)
	$(BIN)/python -c "import pgserver; pgserver.get_server('.local/pgdata', cleanup_mode='stop')"

# Re-lock dependencies with hashes after editing pyproject.toml (needs `pip install uv`).
lock:
	uv pip compile pyproject.toml --generate-hashes --python-version 3.11 -q -o requirements.txt
	uv pip compile pyproject.toml --extra dev -c requirements.txt --generate-hashes --python-version 3.11 -q -o requirements-dev.txt
	uv pip compile requirements-tools.in --generate-hashes --python-version 3.11 -q -o requirements-tools.txt
	# pip-audit asks for CacheControl with its "filecache" extra; uv pins it without the extra,
	# which pip's hash-checking mode then refuses as unpinned: write the pin with the extra.
	sed -i 's/^cachecontrol==/cachecontrol[filecache]==/' requirements-tools.txt

bench: $(STAMP)
	$(BIN)/python bench/run.py

# The fault runs (docs/operations.md, "Faults"): Redis stopped, PostgreSQL restarted under
# load, the S3 gateway frozen mid-upload, a worker SIGKILLed mid-task, clamd down; each
# against the real server. Exit 0 when every fault is handled (3 to 5 minutes). `make test`
# runs the same tests with the rest of the suite.
.PHONY: faults
FAULT_TESTS := tests/faults tests/jobs/test_outbox.py tests/jobs/test_redis_down_forms.py \
	tests/jobs/test_worker_recovery.py tests/documents/test_scanning.py \
	tests/documents/test_upkeep.py \
	tests/documents/test_release_download.py::test_unscanned_documents_cannot_be_released
faults: $(STAMP)
	REQUIRE_SERVICES=1 $(BIN)/python -m pytest -q -p no:cacheprovider $(FAULT_TESTS) \
		-k "not (test_scanning and not clamd)"

# Audit log cost (about 90 seconds): added latency of the page-view event (a staff page with
# recording on and off, same run) and append throughput (1 writer; 4 writers on one chain;
# 4 and 8 agencies in parallel). One part: bench/audit_bench.py latency (or append);
# longer: --rounds 2000 --seconds 30.
bench-audit: $(STAMP)
	$(BIN)/python bench/audit_bench.py

# Translations (docs/translation.md): collect every marked string into the catalogues
# (locale/<lang>/LC_MESSAGES/django.po; new entries have an empty msgstr, changed ones are
# fuzzy), then compile them to the .mo files Django reads, which are committed.
# tests/test_translations.py fails while a .mo differs from its .po.
messages: $(STAMP)
	scripts/ensure-system-packages build
	$(BIN)/python manage.py makemessages --all --add-location file --no-obsolete \
		--ignore 'tests/*' --ignore 'bench/*' --ignore 'static/*' --ignore 'scripts/*' --ignore '.local/*'
	for po in locale/*/LC_MESSAGES/*.po; do msgfmt --check -o "$${po%.po}.mo" "$$po" || exit 1; done

.PHONY: bench-requests

# Records requests at scale: seeds 1,000,000 requests over 50 agencies in a throw-away database
# (several minutes), then p50/p95 of archive search, a request page and the staff queue.
# Quick check: .venv/bin/python bench/requests_bench.py --requests 20000 --agencies 5
bench-requests: $(STAMP)
	$(BIN)/python bench/requests_bench.py

.PHONY: bench-api
# The REST API's data endpoints on the requests bench's 1,000,000-request dataset: list and
# search p95 (target <= 50 ms) and one gunicorn process's requests/s for the public open-data
# list as a ratio to a bare DRF view (target >= 0.5x; needs wrk).
# Quick check: .venv/bin/python bench/api_bench.py --requests 20000 --agencies 5
bench-api: $(STAMP)
	$(BIN)/python bench/api_bench.py

.PHONY: bench-audit-viewer

# The audit-log viewer at scale: seeds 1,000,000 valid chain events over 50 agencies in a
# throw-away database, then p50/p95 of the first page, deep keyset pages, filters and details
# search (add --events 10000000 --index-after for the issue's size; --explain prints the
# query plans).
bench-audit-viewer: $(STAMP)
	$(BIN)/python bench/audit_viewer_bench.py

.PHONY: bench-http

# One web process of the Procfile over HTTP (about 3 minutes): gunicorn as the Procfile
# starts it under production settings (DEBUG off) on a seeded throw-away database, and a bare
# Django hello-world under the same gunicorn command; wrk (Debian; scripts/ensure-system-packages
# test) loads each page over loopback in interleaved rounds: requests/s, p50/p95/p99 and the
# ratio to bare Django, next to the issue's targets. Shorter: --seconds 2 --rounds 1
bench-http: $(STAMP)
	scripts/ensure-system-packages test
	$(BIN)/python bench/http_bench.py

.PHONY: bench-load

# Load run (about 10 minutes): the same servers as bench-http, then wrk puts 64 concurrent
# connections for 60 s on each of the agency home, the request form, public request pages,
# archive search and listing, and the staff queue (an admin past two-factor), over loopback.
# Fails on any error (a response outside 2xx/3xx, a socket error, a timeout, a traceback in
# the web process); prints p50/p95/p99, requests/s and PASS/MISS of each page's ratio to bare
# Django against the fast-pages targets (--strict fails on a miss). Shorter: --seconds 10
bench-load: $(STAMP)
	scripts/ensure-system-packages test
	$(BIN)/python bench/load_bench.py

# Every benchmark under bench/ in one go, one after the other, each with a time limit
# (scripts/bench-all): at reduced scale by default (about 35 minutes on 2 cores), at each
# one's own scale with BENCH_SCALE=full (a few hours). bench/README.md lists them.
BENCH_SCALE ?= reduced
bench-all: $(STAMP)
	scripts/ensure-system-packages test
	$(BIN)/python scripts/bench-all --scale $(BENCH_SCALE)

.PHONY: bench-signin-memory

# Sign-ins that cannot exhaust a dyno (about 2 minutes): peak RSS of a Procfile web process
# while 50 people sign in at once, and sign-ins per second, with Django's Argon2id parameters
# (before) and the portal's (after), as the Procfile runs and with --threads 8; fails when a
# worker's peak reaches 400 MB with the portal's. Shorter: --sign-ins 20 --bursts 1
bench-signin-memory: $(STAMP)
	$(BIN)/python bench/signin_memory_bench.py

.PHONY: bench-login

# Sign-in cost: the Argon2id parameters in use against OWASP's minimum, one raw verify, a full
# sign-in (and a wrong password / unknown email), sign-ins per second with 1 and 2 threads and
# peak RSS, in a throw-away database (about 2 minutes). Shorter: --logins 20 --seconds 5
bench-login: $(STAMP)
	$(BIN)/python bench/login_bench.py

.PHONY: bench-documents

# Documents at scale: encrypt-and-store and fetch-and-decrypt throughput of 1 MB, 100 MB and
# 1 GB files on local storage against `openssl speed -evp aes-256-gcm` (one core), the crypto
# layer alone at 16-1024 KiB segments, and RSS growth while a 1 GB file streams, in a
# throw-away database and temporary folder (under a minute). Shorter: --quick
bench-documents: $(STAMP)
	$(BIN)/python bench/documents_bench.py

.PHONY: bench-audit-verify

# audit_verify throughput: seeds 300,000 chained events (one big agency, three small ones) with
# a seal every 5,000 in a throw-away database and seal folder, then events/s of the chain walk
# alone (wall and per CPU second) and of the full check against every seal (about a minute).
bench-audit-verify: $(STAMP)
	$(BIN)/python bench/audit_verify_bench.py

.PHONY: bench-backup

# Backups (about 10 minutes on 2 cores): builds a 1 GB throw-away database, then backup and
# restore throughput (MB/s of dump) against plain pg_dump / pg_restore in the same run, and
# the backup process's peak memory. Quick check: .venv/bin/python bench/backup_bench.py --size-mb 50 --rounds 1
bench-backup: $(STAMP)
	$(BIN)/python bench/backup_bench.py
