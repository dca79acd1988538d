# Two commands on a fresh machine: `make run` serves the API, `make test` runs everything.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: dev run test lint typecheck unit mariadb graphiql chromium schema openapi seed-sql clean \
	schema-check schema-release trusted-documents client-types test-pythons lock

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

# graphql-js and graphql-http for the tests (tests/graphql_js), from the pinned lock.
GRAPHQL_JS := tests/graphql_js/node_modules/.installed
$(GRAPHQL_JS): tests/graphql_js/package.json tests/graphql_js/package-lock.json
	cd tests/graphql_js && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

# The client operations as TypeScript types (client-types/, graphql-codegen's client
# preset, pinned by client-types/package-lock.json). `make client-types` regenerates
# client-types/generated/ after the schema or tests/operations/ change; the tests check
# the committed files are up to date and compile.
CLIENT_TYPES_INSTALLED := client-types/node_modules/.package-lock.json
$(CLIENT_TYPES_INSTALLED): client-types/package.json client-types/package-lock.json
	cd client-types && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

client-types: $(CLIENT_TYPES_INSTALLED)
	cd client-types && npm run --silent generate

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
unit: $(BIN)/.dev-installed mariadb $(GRAPHIQL_BUILT) $(GRAPHQL_JS) $(CLIENT_TYPES_INSTALLED) chromium
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

test: lint typecheck unit

# The whole suite again on each supported Python (make test runs it on 3.11, the
# Dockerfile's): a virtualenv per version (.venv-3.12, ...) from the same hashed locks,
# installed by uv (seconds, not minutes). The interpreters come from PATH: python3.11,
# python3.12, python3.13 (pyenv's shims here, which PYENV_VERSION lets through).
# PYTHONS=3.13 runs one.
PYTHONS ?= 3.11 3.12 3.13
test-pythons: $(BIN)/.dev-installed mariadb $(GRAPHIQL_BUILT) $(CLIENT_TYPES_INSTALLED) chromium
	@for version in $(PYTHONS); do \
	  venv=.venv-$$version; \
	  echo "== Python $$version ($$venv)"; \
	  [ -x $$venv/bin/python ] || PYENV_VERSION=$$version python$$version -m venv $$venv \
	    || exit 1; \
	  $(BIN)/uv pip install --quiet --python $$venv/bin/python -r requirements-dev.lock \
	    && $(BIN)/uv pip install --quiet --python $$venv/bin/python --no-deps -e . \
	    && $$venv/bin/pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder \
	    || exit 1; \
	done

# Both locks from pyproject.toml, for every platform and Python 3.11 to 3.13 (universal),
# every file with its hashes (pip and uv then refuse anything else). The dev lock keeps
# the service lock's pins (the image runs those). Pins stay where they are unless a
# requirement moved; UPGRADE=1 moves every pin to the newest allowed.
LOCK := $(BIN)/uv pip compile pyproject.toml --quiet --universal --generate-hashes \
	--python-version 3.11 $(if $(UPGRADE),--upgrade)
lock: $(BIN)/.dev-installed
	$(LOCK) -o requirements.lock
	$(LOCK) --extra dev --constraint requirements.lock -o requirements-dev.lock

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

# The trusted documents (README "Trusted documents"): tests/operations/ by hash.
trusted-documents: $(BIN)/.service-installed
	$(BIN)/graphql-api documents manifest --output contract/trusted-documents.json

openapi: $(BIN)/.service-installed
	$(BIN)/graphql-api export-openapi --output openapi.json

seed-sql: $(BIN)/.service-installed
	$(BIN)/graphql-api db seed-sql > sql/020_demo_seed.sql

# `sam build -t deploy/aws-lambda/template.yaml` calls these (BuildMethod: makefile) with
# ARTIFACTS_DIR: the locked dependencies as Lambda's platform needs them (manylinux
# wheels for CPython 3.11), then the package itself. README "AWS Lambda".
LAMBDA_PIP := $(PYTHON) -m pip install --quiet --target "$(ARTIFACTS_DIR)"
.PHONY: build-ApiFunction build-DrainFunction
build-ApiFunction build-DrainFunction:
	$(LAMBDA_PIP) --platform manylinux2014_x86_64 --implementation cp --python-version 3.11 \
	  --only-binary=:all: --no-deps -r requirements.lock
	$(LAMBDA_PIP) --no-deps .

clean:
	rm -rf $(VENV) .venv-3.* .pytest_cache .mypy_cache .ruff_cache graphiql/dist graphiql/node_modules \
	  client-types/node_modules

# Benchmarks (bench/, README "Benchmarks"): the API against a REST and a naive GraphQL peer.
# SCALE=large loads 1,000 reps / 100,000 customers; PROFILE=0 skips the py-spy profile.
SCALE   ?= default
PROFILE ?= 1
.PHONY: bench bench-smoke bench-instructions bench-feed bench-migration valgrind

bench: $(BIN)/.dev-installed mariadb
	$(BIN)/python -m bench run --scale $(SCALE) $(if $(filter 0,$(PROFILE)),--no-profile)
	$(BIN)/python -m bench feed

# The live feed's delivery latency to 1,000 subscribers, a change every 100 ms (bench/feed_latency.py).
bench-feed: $(BIN)/.dev-installed mariadb
	$(BIN)/python -m bench feed

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
