# Set-up and everyday commands. `make run` and `make test` are all a fresh machine needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# The integration pass of `make test` uses these services (CI has them; elsewhere it skips if they're down).
IT_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/enforcement_it
IT_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: install run serve migrate demo test test-fast test-fuzz test-integration bench bench-burst messages clean

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	touch $@

install: $(VENV)/.installed

migrate: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py compilemessages_if_needed

demo: migrate
	$(PY) manage.py load_demo --if-empty

# One uvicorn process (HTTP and websockets) for the demo; production runs gunicorn gthread for HTTP and uvicorn
# for /ws/ behind deploy/nginx.conf (README "Running in production"; measured by bench/intake.py).
# DEMO_SIMULATION=1: the demo officers keep walking and reporting positions (`make run DEMO_SIMULATION=0`: still).
DEMO_SIMULATION ?= 1
run: demo
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py demo_logins --base-url http://$(HOST):$(PORT)
	DEMO_SIMULATION=$(DEMO_SIMULATION) $(PY) -m uvicorn config.asgi:application --host $(HOST) --port $(PORT) --ws websockets-sansio

test: test-fast test-fuzz test-integration

# The fast pass: unit, API, permission and browser tests on SQLite, tasks inline, in-memory channels
# (DATABASE_URL / REDIS_URL from the caller's shell are ignored here).
test-fast: install
	$(PY) manage.py compilemessages_if_needed
	env -u DATABASE_URL -u REDIS_URL $(PY) -m pytest -m "not integration and not fuzz"

# The fuzz pass: schemathesis over the API on SQLite (FUZZ_EXAMPLES per operation, derandomized), in a pass
# of its own so the fast pass stays fast; the integration pass runs these again on PostgreSQL.
test-fuzz: install
	env -u DATABASE_URL -u REDIS_URL $(PY) -m pytest -m "fuzz and not integration"

# The integration pass: the same suite again on PostgreSQL + Redis (browser tests excepted: they ran in
# the fast pass), plus the tests marked integration (migrations both ways, DB constraints, Redis channel
# layer, a live daphne websocket, a real Celery worker). Services down: skipped with a message, or a
# failure when CI=true. pytest's exit 5 (nothing collected) fails, and so does a run in which no
# integration test passed (REQUIRE_INTEGRATION_TESTS). Running two passes at once on one server? Give
# each its own IT_DATABASE_URL: the test database "test_<name>" of a previous run is dropped first.
# DATABASE_URL set means production settings, which refuse to start without a SECRET_KEY: the pass gets
# a random one per run (or the caller's).
test-integration: install
	@$(PY) -m core.services_check "$(IT_DATABASE_URL)" "$(IT_REDIS_URL)" || exit_code=$$?; \
	case "$${exit_code:-0}" in \
	0) echo "integration pass on $(IT_DATABASE_URL) and $(IT_REDIS_URL)"; \
	   SECRET_KEY="$${SECRET_KEY:-test-only-$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(40))')}" \
	   DATABASE_URL="$(IT_DATABASE_URL)" REDIS_URL="$(IT_REDIS_URL)" REQUIRE_INTEGRATION_TESTS=1 \
	   $(PY) -m pytest --create-db -m "integration or not browser"; exit $$? ;; \
	3) echo "integration pass SKIPPED: PostgreSQL/Redis not reachable (see above); CI=true makes this a failure" ;; \
	*) echo "integration pass FAILED: PostgreSQL/Redis not reachable and CI=true"; exit $$exit_code ;; \
	esac

# Each bench/*.py in turn; bench/reports.py generates its data into PostgreSQL (DATABASE_URL, default
# postgres://postgres@127.0.0.1:5432/bench_reports): bench/README.md says what each measures.
bench: install
	for f in bench/*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

# Bursts from machines on the asynchronous intake path (PostgreSQL + Redis, real server and worker processes;
# part of `make bench` too): BENCH_DATABASE_URL / BENCH_REDIS_URL choose the scratch database and Redis db.
bench-burst: install
	$(PY) bench/burst.py

clean:
	rm -rf $(VENV) db.sqlite3* var

# After changing user-visible strings: update the English catalog, translate the new entries, compile.
messages: install
	$(PY) manage.py makemessages -l en --no-location --ignore=.venv --ignore=var --ignore=node_modules
	$(PY) manage.py compilemessages -l en --ignore=.venv
