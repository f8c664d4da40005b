# Partner Pulse. `make run` serves the app on the demo program; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DB ?= data/pulse.duckdb
DEMO := data/demo
PORT ?= 8501

.PHONY: run watch test install install-dev chromium demo build lint bench screenshots clean

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt requirements.txt $(VENV)/.installed
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Written beside and renamed into place, so an interrupted run leaves no half demo behind.
$(DEMO)/partners.csv: | $(VENV)/.installed
	rm -rf $(DEMO).partial
	$(PY) -m loaders demo $(DEMO).partial --scale 1 --seed 7
	rm -rf $(DEMO) && mv $(DEMO).partial $(DEMO)

$(DB): | $(DEMO)/partners.csv
	$(PY) -m loaders build $(DEMO) --db $(DB)

demo: $(DEMO)/partners.csv
build: $(DEMO)/partners.csv
	$(PY) -m loaders build $(DEMO) --db $(DB)

# `make run WATCH=DIR` also watches DIR and rebuilds $(DB) whenever new extracts land there
# (first build before the app starts; one Ctrl-C stops both). See README, "Keeping data fresh".
run: $(VENV)/.installed $(if $(WATCH),,$(DB))
	@# A database built by an older version is rebuilt from the extracts it was built from.
	-@test ! -f $(DB) || $(PY) -m loaders upgrade --db $(DB)
ifdef WATCH
	$(PY) -m loaders watch $(WATCH) --db $(DB) --once --interval 1 || true
	$(PY) -m loaders watch $(WATCH) --db $(DB) & watcher=$$!; \
	trap 'kill $$watcher 2>/dev/null' EXIT INT TERM; \
	PULSE_DB=$(DB) $(VENV)/bin/streamlit run app.py --server.port $(PORT)
else
	PULSE_DB=$(DB) $(VENV)/bin/streamlit run app.py --server.port $(PORT)
endif

# The watcher alone, e.g. in a second terminal beside `make run`: make watch WATCH=DIR
watch: $(VENV)/.installed
	$(PY) -m loaders watch $(or $(WATCH),$(DEMO)) --db $(DB)

# Debian's chromium drives the browser tests (Playwright's own browser download does not work here).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

test: $(VENV)/.installed-dev chromium
	$(PY) -m pytest -q -n 2 --dist loadfile

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .

bench: $(VENV)/.installed-dev
	$(PY) -m bench

# A PNG of every page of the served demo app under docs/screenshots/ (Debian's chromium, Playwright).
screenshots: $(VENV)/.installed-dev chromium
	$(PY) -m scripts.screenshots

clean:
	rm -rf $(VENV) data/demo data/extracts $(DB)
