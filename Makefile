# Developer commands. Run ./setup.sh once first: it creates .venv.
VENV ?= .venv
BIN := $(VENV)/bin

# Plain pytest by default. The suite has not been audited for pytest-xdist
# (tests share the dataset cache and some start kernels or browsers), so
# parallel runs are opt-in: make test PYTEST_ARGS="-n 2".
PYTEST_ARGS ?=

.PHONY: test lint format

test: lint
	@# Exit code 5 means no tests were collected: a broken suite, never a pass.
	@$(BIN)/pytest tests $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests; the suite must not be empty" >&2; fi; \
	exit $$rc

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format:
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
