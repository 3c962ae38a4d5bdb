# Two commands matter on a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
SIM_PORT ?= 12111
export FLASK_APP := wsgi

CATALOGS := $(wildcard translations/*/LC_MESSAGES/messages.po)
COMPILED := $(CATALOGS:.po=.mo)

.PHONY: run test lint format lock translations extract worker bench bench-smoke clean

$(VENV)/.runtime: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(BIN)/pip install --disable-pip-version-check -q -r requirements-dev.txt
	touch $@

translations/%/LC_MESSAGES/messages.mo: translations/%/LC_MESSAGES/messages.po $(VENV)/.runtime
	$(BIN)/pybabel compile -f -d translations -l $* 2>&1 | grep -v "^compiling" || true

## run: the app with demo data, the Stripe simulator and the worker (no keys or servers needed)
run: $(VENV)/.runtime $(COMPILED)
	$(BIN)/flask db upgrade
	$(BIN)/flask seed demo
	@bash scripts/run-dev.sh $(PORT) $(SIM_PORT)

## test: ruff, then the whole pytest suite
test: $(VENV)/.dev $(COMPILED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## lock: pin every package, transitive ones too, from requirements.in and requirements-dev.in
lock: $(VENV)/.dev
	$(BIN)/pip-compile -q --strip-extras --no-emit-index-url --no-emit-find-links -o requirements.txt requirements.in
	$(BIN)/pip-compile -q --strip-extras --no-emit-index-url --no-emit-find-links -o requirements-dev.txt requirements-dev.in

## extract: refresh the catalogs from the code and templates
extract: $(VENV)/.dev
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k ngettext:1,2 -k lazy_ngettext:1,2 -k lazy_pgettext:1c,2 --no-location \
		--sort-output -o translations/messages.pot --project=Mondial --copyright-holder="" .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching \
		--ignore-obsolete -w 100

## translations: extract, then compile the catalogs
translations: extract
	$(BIN)/pybabel compile -f -d translations

worker: $(VENV)/.runtime $(COMPILED)
	$(BIN)/flask worker run

## bench: every bench in full, beside a Flask hello-world (a few minutes; needs wrk,
## PostgreSQL and Redis: see bench/harness.py)
bench: $(VENV)/.dev $(COMPILED)
	$(BIN)/python bench/pages.py --seconds 10 --rounds 2
	$(BIN)/python bench/webhooks.py --events 4500 --seconds 3
	$(BIN)/python bench/reconcile.py
	$(BIN)/python bench/treasurer_pages.py
	$(BIN)/python bench/load.py

## bench-smoke: every bench at a tiny size, no goals: keeps the scripts working (CI)
bench-smoke: $(VENV)/.dev $(COMPILED)
	$(BIN)/python bench/pages.py --smoke
	$(BIN)/python bench/webhooks.py --smoke
	$(BIN)/python bench/reconcile.py --smoke
	$(BIN)/python bench/treasurer_pages.py --smoke
	$(BIN)/python bench/load.py --smoke

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
