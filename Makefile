# Set-up and everyday commands. `make run` and `make test` are all a fresh machine needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# The integration pass of `make test` uses these services (CI has them; elsewhere it skips if they're down).
IT_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/enforcement_it
IT_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: install run serve migrate demo test test-fast test-integration bench messages clean

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

run: demo
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py demo_logins
	$(PY) -m daphne -b $(HOST) -p $(PORT) config.asgi:application

test: test-fast test-integration

test-fast: install
	$(PY) manage.py compilemessages_if_needed
	$(PY) -m pytest -m "not integration"

test-integration: install
	@$(PY) -m core.services_check "$(IT_DATABASE_URL)" "$(IT_REDIS_URL)" || exit_code=$$?; \
	if [ "$${exit_code:-0}" = "0" ]; then \
		DATABASE_URL="$(IT_DATABASE_URL)" REDIS_URL="$(IT_REDIS_URL)" $(PY) -m pytest -m "integration or not browser"; \
	elif [ "$${exit_code}" = "3" ]; then \
		echo "integration suite skipped: PostgreSQL/Redis not reachable (CI=true makes this a failure)"; \
	else exit $${exit_code}; fi

bench: install
	for f in bench/*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

clean:
	rm -rf $(VENV) db.sqlite3* var
