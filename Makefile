# Matryoshka: `make run` runs the default experiment and its analysis, `make test` runs every test.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
OUT ?= out/default
PORT ?= 8765

.PHONY: run test bench viz seed-sets claims clean

$(STAMP): pyproject.toml
	@py=""; for c in python3.12 python3.13 python3 python; do \
	  if command -v $$c >/dev/null 2>&1 && $$c -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then py=$$c; break; fi; \
	done; \
	if [ -z "$$py" ]; then echo "error: Matryoshka needs Python >= 3.12 (Mesa 3.5 requires it); none was found on PATH. Install one (e.g. 'pyenv install 3.12') and retry." >&2; exit 1; fi; \
	[ -x $(PY) ] || $$py -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/matryoshka sweep default --out $(OUT)
	$(VENV)/bin/matryoshka analyze $(OUT)

test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m pytest -q

# Run the experiment behind every claim the README makes over 10 seeds; write analysis/claims.md.
claims: $(STAMP)
	nice $(VENV)/bin/matryoshka claims --seeds 10 --out analysis

# Each effect test (pytest -m effect) on 10 disjoint seed sets: it must pass on at least 9.
seed-sets: $(STAMP)
	@for k in 0 1 2 3 4 5 6 7 8 9; do \
	  $(PY) -m pytest -q -m effect -p no:cacheprovider -rA --seed-set $$k | grep -E '^(PASSED|FAILED) '; \
	done | sed -E 's/ - .*//' | sort -k2 | uniq -c | awk '{print $$2 " on " $$1 " of 10 seed sets: " $$3}'

bench: $(STAMP)
	$(PY) -m matryoshka.runs.bench

viz: $(STAMP)
	$(VENV)/bin/matryoshka viz --port $(PORT)

clean:
	rm -rf $(VENV) out
