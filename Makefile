# The two commands of the README: `make demo` and `make test`. Both create or refresh .venv/.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO := examples/demo.toml
MODEL := models/build/meta.json

.PHONY: demo web-demo test venv model system-deps lint bench clean

# pip first: the one Python 3.11's venv brings (23.2) took 27 s of CPU to resolve these pins
# against the package index, pip 26.3 takes 9 s.
PIP := pip==26.3
$(STAMP): pyproject.toml
	@scripts/ensure-system-deps.sh python
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check '$(PIP)'
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

# The trained classifier: a build artefact, rebuilt when the corpus, its config or the rules
# (its calibration and review flag are fitted through them, exercise.py's cues included)
# change. About a minute: the learned review flag is fitted on five models trained on four
# fifths of the corpus each (reviewfit.py).
$(MODEL): $(STAMP) models/config.cfg $(wildcard models/corpus/*.jsonl) models/corpus/families.txt \
          $(wildcard rules/*.yaml) intake/classify/linear.py intake/classify/modeltext.py \
          intake/classify/training.py intake/classify/modelbuild.py \
          intake/classify/review.py intake/classify/reviewfit.py intake/classify/exercise.py
	$(BIN)/intake model train --quiet --out models/build

model: $(MODEL)

system-deps:
	@scripts/ensure-system-deps.sh test

# The real pipeline on the embedded default: SQLite, the bundled sample Maildir, replies as .eml files.
demo: venv $(MODEL)
	@scripts/ensure-system-deps.sh ocr
	rm -rf var/demo
	mkdir -p var/demo
	cp -r examples/mailbox var/demo/mailbox
	$(BIN)/intake --config $(DEMO) db upgrade
	$(BIN)/intake --config $(DEMO) run --once
	@echo
	$(BIN)/intake --config $(DEMO) cases list
	@echo
	@echo "Acknowledgements written to: $$(cd var/demo/sent 2>/dev/null && pwd || echo var/demo/sent)"
	@ls var/demo/sent 2>/dev/null | sed 's/^/  /'
	@echo
	@echo "Staff digest preview (as on 1 April 2026, while the demo requests still run):"
	$(BIN)/intake --config $(DEMO) digest --preview --at 2026-04-01T08:00

# The staff web console on the demo data, with the local demo sign-in (127.0.0.1 only), as on
# 1 April 2026 while the demo requests still run: http://127.0.0.1:8080/
web-demo: demo
	$(BIN)/intake --config $(DEMO) web --demo --at 2026-04-01T08:00

# Lint and the whole test suite (real Dovecot, real SMTP server, SQLite and PostgreSQL), in
# PYTEST_WORKERS processes (pytest-xdist; 0: all in this one). The default is one more worker
# than cores (3 on the 2-core CI machine): the tests wait on servers, daemons and child
# processes much of the time, and a third worker keeps both cores busy. Each test file runs
# whole in one worker, the slowest files first (tests/conftest.py); every worker has its own
# Dovecot, SMTP servers and temporary directories, every database test its own PostgreSQL
# schema.
PYTEST_WORKERS ?= $(shell echo $$(( $$(nproc) + 1 )))
test: venv system-deps $(MODEL)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder

bench: venv system-deps
	$(BIN)/python bench/backlog.py

clean:
	rm -rf var .pytest_cache .ruff_cache
