# Relais. `make run` and `make test` do all the set-up themselves (virtualenv, packages,
# compiled catalogs); `make install` does the set-up alone and is quick when nothing changed.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BABEL := $(VENV)/bin/pybabel
STAMP := $(VENV)/.installed-stamp
SYSTEM_STAMP := $(VENV)/.system-stamp
PO := $(wildcard locales/*/LC_MESSAGES/messages.po)
MO := $(PO:.po=.mo)

.PHONY: install run chat test test-fast check catalogs flows-check clean

install: $(SYSTEM_STAMP) $(STAMP) $(MO)

# Debian packages (tesseract for screenshots, chromium for the browser tests). Needs root; a
# machine without them still runs the assistant, and those tests say what is missing.
$(SYSTEM_STAMP): scripts/install-system-packages.sh
	@mkdir -p $(VENV)
	@bash scripts/install-system-packages.sh && touch $@ || \
		echo "warning: Debian packages missing (see scripts/install-system-packages.sh)"

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

# One .mo per .po; a catalog edited since its last compile is compiled again.
locales/%/LC_MESSAGES/messages.mo: locales/%/LC_MESSAGES/messages.po $(STAMP)
	@$(BABEL) -q compile --domain messages --locale $* --input-file $< --output-file $@

# The server: the web chat on http://127.0.0.1:8080/ (WEB_HOST, WEB_PORT), and Telegram when
# TELEGRAM_BOT_TOKEN is set.
run: install
	$(PY) -m bot run

# A conversation in this terminal, without the server.
chat: install
	$(PY) -m bot chat

# The whole suite on TEST_WORKERS processes (pytest-xdist): its browser, subprocess and
# network tests spend much of their time waiting, which another worker fills. Each idle
# worker steals half of a busy one's queue, so the long tests do not end the run on one
# worker. One test alone: `.venv/bin/pytest tests/x.py::test_y` (one process).
TEST_WORKERS ?= 2
PYTEST_PARALLEL := -n $(TEST_WORKERS) --dist worksteal

test: install
	$(PY) -m pytest $(PYTEST_PARALLEL)

# Everything but the browser (chromium) and screenshot (tesseract) tests: for while you work.
test-fast: install
	$(PY) -m pytest $(PYTEST_PARALLEL) -m "not browser and not ocr"

check: install
	$(VENV)/bin/ruff check bot tests benchmarks
	$(VENV)/bin/mypy

flows-check: install
	$(PY) -m bot flows check

# After editing texts in flows/*.yaml: refresh the template and every catalog. Changed French
# texts come back fuzzy, and `flows check` fails until a translator reviews them.
catalogs: $(STAMP)
	$(BABEL) -q extract -F babel.cfg -o locales/messages.pot --sort-by-file \
		--project Relais --version 0.1 .
	$(BABEL) -q update -i locales/messages.pot -d locales -D messages
	@$(MAKE) --no-print-directory install

clean:
	rm -rf $(VENV) locales/*/LC_MESSAGES/*.mo .pytest_cache .mypy_cache .ruff_cache
