# caseflow — two commands on a fresh machine:
#   make run   install, migrate an SQLite database, deploy the processes, load demo data, serve
#   make test  install and run the whole test suite (PostgreSQL too when TEST_DATABASE_URL is set)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
WORKERS ?= 2
PYTEST_WORKERS ?= 2
# what make starts is a development run: the default SECRET_KEY and plain-HTTP cookies are
# accepted (a production start refuses them, server/config.py)
CASEFLOW_ENV ?= development
export CASEFLOW_ENV

.PHONY: install lock assets run serve test bench bench-timers bench-quick clean translations browser diagrams

# every package at the exact version (and hash) of requirements.lock, then caseflow itself
$(BIN)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

install: $(BIN)/.installed

# after changing a dependency in pyproject.toml: write requirements.lock again (then make install)
lock: install
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --generate-hashes --no-header \
	  --quiet -o requirements.lock

# The browser modules (web/assets: bpmn-js viewer and modeller, dmn-js decision table editor, Chart.js charts) bundled into
# web/static/dist from the npm registry's exact versions in package-lock.json; rebuilt when the lock
# file or our sources change. Nothing is loaded from a CDN at run time.
ASSETS := web/assets
$(ASSETS)/.built: $(ASSETS)/package-lock.json $(ASSETS)/build.mjs $(wildcard $(ASSETS)/src/*)
	@command -v npm >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm; }
	cd $(ASSETS) && npm ci --no-audit --no-fund --loglevel=error && npm run build
	touch $@

assets: $(ASSETS)/.built

run: install assets
	mkdir -p instance
	$(BIN)/caseflow db upgrade
	$(BIN)/caseflow deploy
	$(BIN)/caseflow demo-data
	@echo "caseflow on http://127.0.0.1:$(PORT)  (API docs: http://127.0.0.1:$(PORT)/api/docs)"
	@echo "the scheduler (timers, SLA escalations, mail) runs beside it as its own process"
	$(BIN)/caseflow scheduler & scheduler=$$!; trap 'kill $$scheduler 2>/dev/null' EXIT INT TERM; \
	$(BIN)/gunicorn --workers $(WORKERS) --threads 8 --bind 127.0.0.1:$(PORT) 'server:create_app()'

# the browser tests drive Debian's Chromium (never a browser build downloaded by Playwright),
# with CJK fonts for the Chinese pages; CI runs as root
browser:
	@{ test -x /usr/bin/chromium && dpkg -s fonts-noto-cjk >/dev/null 2>&1; } || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk; }

test: install assets browser
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS)

# docs/diagrams/<process>.svg and .png from processes/*.bpmn (bpmn-js, the pages' own viewer, in
# headless Chromium) and the DMN decision tables in docs/process.md; only what changed is redrawn
# (DIAGRAMS_ARGS=--force: everything; --check: say what is stale, draw nothing)
diagrams: install assets browser
	$(BIN)/python -m tools.render_diagrams $(DIAGRAMS_ARGS)

bench: install
	$(BIN)/python bench/lifecycle.py

bench-timers: install   # PostgreSQL: DATABASE_URL, else postgresql://postgres@127.0.0.1:5432/test
	$(BIN)/python bench/timers.py $(BENCH_ARGS)

# a short run of every benchmark (PostgreSQL; about 3 minutes on a quiet 2-core machine), each
# printing its JSON line last: check a change against the table in bench/README.md
bench-quick: install
	$(BIN)/python bench/per_request.py --cases 5
	$(BIN)/python bench/lifecycle.py --quick --backends postgresql --clients 16
	$(BIN)/python bench/timers.py --timers 300 --stream-seconds 5
	$(BIN)/python bench/volume.py --sizes 1000 --repeat 10

# the pages' texts: collect them from the code and templates, merge into the catalogues (then
# translate the new entries in web/translations/zh_CN/LC_MESSAGES/messages.po; the app compiles
# the catalogues when it starts)
translations: install
	$(BIN)/pybabel extract -F web/babel.cfg -k _l -k N_ --no-location --no-wrap --sort-output -o web/translations/messages.pot web cases
	$(BIN)/pybabel update -i web/translations/messages.pot -d web/translations --no-fuzzy-matching --ignore-obsolete --no-wrap

clean:
	rm -rf $(VENV) instance .pytest_cache web/static/dist web/assets/node_modules web/assets/.built
