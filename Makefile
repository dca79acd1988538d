# Two commands on a fresh machine: `make run` serves the API, `make test` runs everything.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: dev run test lint typecheck unit mariadb graphiql chromium schema openapi seed-sql clean \
	schema-check schema-release

# The service's pinned dependencies, then the package itself (editable, so sql/ is found).
$(BIN)/.service-installed: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

$(BIN)/.dev-installed: $(BIN)/.service-installed requirements-dev.lock
	$(BIN)/pip install --quiet -r requirements-dev.lock
	touch $@

# GraphiQL from the pinned npm packages (graphiql/package-lock.json), bundled into
# graphiql/dist, which the server serves itself. Install scripts are skipped: esbuild
# finds its binary in its platform package, and nothing else needs one.
GRAPHIQL_BUILT := graphiql/dist/graphiql.js
$(GRAPHIQL_BUILT): graphiql/package.json graphiql/package-lock.json graphiql/build.mjs $(wildcard graphiql/src/*)
	cd graphiql && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	cd graphiql && npm run --silent build
	touch $@

graphiql: $(GRAPHIQL_BUILT)

# A Debian package's command, installed when it is missing (as root; otherwise the hint):
# $(1) the command and package, $(2) what needs it.
define debian_package
	@command -v $(1) >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(1); \
	  else \
	    echo "$(2) needs Debian's $(1) package: apt-get install $(1)" >&2; \
	    exit 1; \
	  fi; }
endef

# The browser test drives Debian's Chromium (no browser download).
chromium:
	$(call debian_package,chromium,The browser test)

# The full local stack: throwaway MariaDB and moto, demo rows in both, the API with the
# chain (MySQL, then DynamoDB). Type `mysql stop` to watch the fallback; Ctrl-C ends it.
dev: $(BIN)/.dev-installed mariadb $(GRAPHIQL_BUILT)
	$(BIN)/python -m devstack.dev_stack --port $(PORT)

run: $(BIN)/.service-installed $(GRAPHIQL_BUILT)
	$(BIN)/graphql-api serve --host $(HOST) --port $(PORT)

# The tests start a throwaway MariaDB; make sure its server binary is on the machine.
mariadb: $(BIN)/.dev-installed
	$(BIN)/python -m devstack.mariadb --ensure

lint: $(BIN)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(BIN)/.dev-installed
	$(BIN)/mypy graphql_api devstack tests bench

# Two workers (pytest-xdist), each with its own MariaDB and moto, each taking whole
# modules (their module fixtures are built once) in collection order, which starts the
# long_running modules first (tests/conftest.py).
TEST_WORKERS ?= 2
unit: $(BIN)/.dev-installed mariadb $(GRAPHIQL_BUILT) chromium
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

test: lint typecheck unit

# Regenerate the committed artifacts after changing the schema code or the demo rows.
schema: $(BIN)/.service-installed
	$(BIN)/graphql-api export-schema --output schema.graphql

# The contract (README "Contract checks"): what changed since contract/released.graphql,
# whom it reaches, exit 1 on an unacknowledged breaking change (make test runs it too);
# releasing copies the schema over the snapshot once schema-changes.md lists every change.
schema-check: $(BIN)/.service-installed
	$(BIN)/graphql-api schema check

schema-release: $(BIN)/.service-installed
	$(BIN)/graphql-api schema release

openapi: $(BIN)/.service-installed
	$(BIN)/graphql-api export-openapi --output openapi.json

seed-sql: $(BIN)/.service-installed
	$(BIN)/graphql-api db seed-sql > sql/020_demo_seed.sql

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache graphiql/dist graphiql/node_modules

# Benchmarks (bench/, README "Benchmarks"): the API against a REST and a naive GraphQL peer.
# SCALE=large loads 1,000 reps / 100,000 customers; PROFILE=0 skips the py-spy profile.
SCALE   ?= default
PROFILE ?= 1
.PHONY: bench bench-smoke bench-instructions bench-migration valgrind

bench: $(BIN)/.dev-installed mariadb
	$(BIN)/python -m bench run --scale $(SCALE) $(if $(filter 0,$(PROFILE)),--no-profile)

bench-smoke: $(BIN)/.dev-installed mariadb
	$(BIN)/python -m bench smoke

# Machine instructions per request under valgrind: the noise-free meter (bench/instructions.py).
bench-instructions: $(BIN)/.dev-installed mariadb valgrind
	$(BIN)/python -m bench instructions

valgrind:
	$(call debian_package,valgrind,The instruction meter)

# The migrate, verify and outbox commands against the stores' raw limits, same run, same
# rows (bench/migration.py); SCALE=large for 100,000 customers (about an hour).
bench-migration: $(BIN)/.dev-installed mariadb
	$(BIN)/python -m bench migration --scale $(SCALE)
