# Gapmap: `make run` sets everything up and serves; `make test` runs the tests.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: install run init serve test bench bench-linking bench-scale browsers debian-tools clean fuzz models

$(STAMP): setup.cfg pyproject.toml
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip>=23.2" setuptools wheel
	# torch first, pinned to the CPU build (a plain `torch` would pull a multi-GB CUDA build)
	$(BIN)/pip install --quiet "torch==2.13.0"
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

init: install
	$(BIN)/gapmap init

# where the server listens: `make run PORT=8080` (HOST=0.0.0.0 to listen on every interface)
HOST ?= 127.0.0.1
PORT ?= 5000

serve: install
	@echo "Gapmap: http://$(HOST):$(PORT)/  (sign in; API clients send Authorization: Bearer TOKEN, see README)"
	@echo "  e.g.  curl -H \"Authorization: Bearer \$$TOKEN\" 'http://$(HOST):$(PORT)/api/programs/md/gaps?role=intern'"
	$(BIN)/gapmap serve --host $(HOST) --port $(PORT)

run: init serve

test: install
	$(BIN)/python -m ruff check .
	$(BIN)/python -m mypy
	$(BIN)/python -m pytest -q

# Property-based fuzzing of every parser and of /sparql with 20x the CI examples (40,000 each by default).
fuzz: install
	GAPMAP_FUZZ_EXAMPLES=$$(( $${GAPMAP_FUZZ_EXAMPLES:-2000} * 20 )) $(BIN)/python -m pytest -q tests/loaders/test_fuzz.py tests/service/test_sparql_fuzz.py

# The Debian tools the tests use: chromium + chromedriver (browser test), a Java runtime (HermiT, for
# `gapmap check`), LibreOffice + poppler (office uploads), Virtuoso Open Source (the remote store's contract
# suite on a second SPARQL server), redis-server (shared state of replicas) and PostgreSQL (the account
# database shared by replicas on several hosts; the tests start a throwaway cluster from its initdb, which
# Debian keeps in /usr/lib/postgresql/<version>/bin). Needs root, as on CI; a no-op when they are present.
# (`browsers` is kept as an alias of `debian-tools`.)
debian-tools browsers:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null && command -v java >/dev/null && \
	  command -v soffice >/dev/null && command -v pdftoppm >/dev/null && command -v virtuoso-t >/dev/null && \
	  command -v isql-vt >/dev/null && command -v redis-server >/dev/null && \
	  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver \
	   default-jre-headless libreoffice-calc-nogui poppler-utils virtuoso-opensource redis-server postgresql >/dev/null)

# The MiniLM fine-tuned on the bundled curriculum (the descriptions profile's second member: PCRS-like
# frameworks with code-like labels); ~5-12 min on 2 cores, once. Without it the stock MiniLM is used.
models: install
	$(BIN)/python -m linking.curriculum_ft --if-missing

# Benchmarks write JSON under bench/results/ (they skip with a message when ../shared is absent).
bench: bench-linking models
	$(BIN)/python bench/objective_linking.py
	$(BIN)/python bench/alignment_curriculum.py
	$(BIN)/python bench/syllabus_extraction.py
	$(BIN)/python bench/service_timings.py

# Builds the ESCO-tuned MiniLM first if missing (python -m linking.finetune, ~7-13 min on 2 cores).
bench-linking: install
	$(BIN)/python bench/linking.py
	$(BIN)/python bench/link_occupations.py

# Issue 12's table at institution scale (~35k objectives, ESCO, 5k learners; ~15-30 min on 2 cores):
# bench/results/scale.json and a markdown table; then req/s as gunicorn workers grow over an Oxigraph server.
bench-scale: install
	nice -n 10 $(BIN)/python bench/scale.py
	nice -n 10 $(BIN)/python bench/scale_workers.py

clean:
	rm -rf var/store var/cache
