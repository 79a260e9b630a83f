# groups-tui: every target sets up .venv itself on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test bench lint setup clean browser

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev,web]'
	$(BIN)/python -m compileall -q src >/dev/null
	touch $(STAMP)

setup: $(STAMP)

# The editable install's modules are compiled ahead (a no-op when up to date): where
# PYTHONDONTWRITEBYTECODE is set, every start would otherwise compile them (~70 ms).
run: $(STAMP)
	@$(BIN)/python -m compileall -q src >/dev/null
	$(BIN)/groups-tui

# The web test drives Debian's Chromium; install it when we may (root with apt-get),
# otherwise that one test skips and says why.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing chromium for the browser test"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1 || \
	    { apt-get update -qq >/dev/null 2>&1 && \
	      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1; } || \
	    echo "chromium could not be installed: the browser test will be skipped"; \
	  else echo "no chromium (Debian package chromium): the browser test will be skipped"; fi; }

test: $(STAMP) browser
	$(BIN)/ruff check src tests bench
	$(BIN)/lint-imports
	$(BIN)/deptry src
	$(BIN)/pytest -n 2 --dist loadgroup

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports
	$(BIN)/deptry src
	$(BIN)/mypy

clean:
	rm -rf $(VENV) build dist
