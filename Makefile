# Schakel: two commands on a fresh machine.
#   make demo   install everything, index the demo corpus, serve it on http://$(HOST):$(PORT)/
#   make test   install everything (plus test tools) and run the full test suite
# Both create ./.venv; nothing is installed outside it (Debian's chromium, postgresql and
# redis-server for some tests are installed by .ci/run when it runs as root).
# The demo keeps its data (index, app database, secret key) in ./.schakel-home unless
# SCHAKEL_HOME says otherwise: `make demo SCHAKEL_HOME=/srv/schakel PORT=8080 HOST=0.0.0.0`.
# Other commands with the demo's home: make schakel ARGS='ask "Hoe zet ik video in?"'

PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
SCHAKEL_HOME ?= $(CURDIR)/.schakel-home
export SCHAKEL_HOME

.PHONY: demo install install-dev test bench clean schakel screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip "setuptools>=77"

# torch 2.13.0 is a CPU build on local disk here; a plain `pip install torch` would pull CUDA (GBs).
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev,st]'
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

demo: install
	$(BIN)/schakel index
	@[ -f .demo-password ] || (umask 077; $(BIN)/python -c "import secrets; print(secrets.token_urlsafe(16))" > .demo-password)
	@$(BIN)/schakel user add demo --role admin --password-stdin < .demo-password >/dev/null 2>&1 || true
	@echo "Schakelaar- en tussenringpagina's: log in als 'demo' met het wachtwoord in .demo-password"
	@echo "Data in $(SCHAKEL_HOME). Andere commando's: make schakel ARGS='--help'"
	SCHAKEL_SECURE_COOKIES=false $(BIN)/schakel serve --host $(HOST) --port $(PORT)

schakel: install
	$(BIN)/schakel $(ARGS)

test: install-dev
	$(BIN)/python -m pytest -q

# The three journeys in Chromium at 1280 and 390 px with axe-core; full-page screenshots of every page.
screenshots: install-dev
	SCHAKEL_SCREENSHOTS=$(CURDIR)/bench/out/screenshots $(BIN)/python -m pytest -q tests/browser

bench: install
	$(BIN)/python bench/index_bench.py
	$(BIN)/python bench/api_latency.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
