# yiwang — the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ADDR ?= 127.0.0.1:8000

.PHONY: run test test-pg check lint format bench messages clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## Start the platform with demo data on SQLite at http://127.0.0.1:8000
## (migrate, then the demo unless the database holds it already, then serve: see README)
run: $(STAMP)
	YIWANG_DEV=1 $(BIN)/yiwang serve --demo $(ADDR)

## Run the whole test suite (SQLite by default; set DATABASE_URL for PostgreSQL)
test: $(STAMP)
	$(BIN)/python -m pytest

test-pg: $(STAMP)
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test} $(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

check: lint test
	YIWANG_DEV=1 $(BIN)/python -m django makemigrations --check --dry-run --settings=config.settings
	SECRET_KEY=check-only-$$RANDOM$$RANDOM$$RANDOM-not-a-real-secret-key-xxxxxxxxxxxx \
	  FIELD_ENCRYPTION_KEY=$$($(BIN)/python -c 'import base64,os;print(base64.b64encode(os.urandom(32)).decode())') \
	  ALLOWED_HOSTS=gov.example.org $(BIN)/python -m django check --deploy --fail-level ERROR --settings=config.settings

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

## Regenerate and compile the translation catalogs (needs GNU gettext)
messages: $(STAMP)
	for app in core identity catalog audit licences applications exchange opendata; do \
	  (cd yiwang/$$app && YIWANG_DEV=1 ../../$(BIN)/django-admin makemessages -l zh_Hans --settings=config.settings --pythonpath=../.. \
	   && YIWANG_DEV=1 ../../$(BIN)/django-admin compilemessages --settings=config.settings --pythonpath=../..) || exit 1; \
	done

clean:
	rm -rf $(VENV) var
