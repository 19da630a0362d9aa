# Shortcuts for developers who have make. The front door is ./dlgrade.sh, which
# needs only bash and Python: `./dlgrade.sh grade` and `./dlgrade.sh test`.
VENV ?= .venv
BIN := $(VENV)/bin

# Plain pytest by default. The suite has not been audited for pytest-xdist
# (tests share the dataset cache and some start kernels or browsers), so
# parallel runs are opt-in: make test PYTEST_ARGS="-n 2".
PYTEST_ARGS ?=

.PHONY: test grade lint format

test:
	./dlgrade.sh test $(PYTEST_ARGS)

grade:
	./dlgrade.sh grade

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format:
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
