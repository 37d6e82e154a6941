# The two commands of the README's quick start. Each creates .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test bench lint

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Install the bot and start it: a console chat on SQLite and the bundled knowledge base
# when no platform credentials are configured.
run: $(BIN)/python
	$(BIN)/pip install --quiet -e .
	$(BIN)/compliance-bot run

# Install the bot with its test tools and run every test, PostgreSQL included (the test
# suite starts its own server from the pgserver wheel unless TEST_DATABASE_URL is set).
test: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/ruff check bot handlers tests
	$(BIN)/mypy
	$(BIN)/compliance-bot kb lint
	$(BIN)/compliance-bot kb eval tests/eval/questions.yaml --min-top1 0.93 --min-shown 0.97 \
		--min-abstention 0.90 > /dev/null
	$(BIN)/compliance-bot kb eval tests/eval/chat/test.yaml --min-top1 0.90 --min-shown 0.95 \
		--min-abstention 0.90 > /dev/null
	$(BIN)/pytest

bench: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/python tests/benchmarks/kb_search.py --json
