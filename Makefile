# Two commands on a fresh machine with only python3:
#   make demo   -- set up .venv and run the main job on built-in defaults
#   make test   -- set up .venv and run the test suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# The CPU build of torch; override for a CUDA machine, e.g. make test TORCH_SPEC='torch>=2.2'
TORCH_SPEC ?= torch==2.13.0
STAMP := $(VENV)/.robo_flows_installed

.PHONY: install demo test lint bench results clean

$(STAMP): pyproject.toml setup.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install --quiet "$(TORCH_SPEC)"
	$(PY) -m pip install --quiet -e ".[all]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) scripts/demo.py --out runs/demo

test: $(STAMP)
	$(PY) -m pytest -n 2 -q

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check robo_flows envs scripts tests

bench: $(STAMP)
	$(VENV)/bin/robo-flows bench flows
	$(VENV)/bin/robo-flows bench envs

# README / docs tables from the committed benchmarks/results/*.json (copy a run's JSON there first)
results: $(STAMP)
	$(PY) scripts/render_results.py

clean:
	rm -rf $(VENV) runs
