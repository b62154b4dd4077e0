# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.imgdenoise-installed

.PHONY: demo test test-torch install clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test]"
	touch $@

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/imgdenoise demo -o demo-output

# Everything on TensorFlow (the default backend), then the backend-agnostic
# tests (models, losses, metrics, inference) again on PyTorch when it is installed.
test: $(STAMP)
	$(PY) -m pytest -q
	@if $(PY) -c "import torch" 2>/dev/null; then \
		echo "--- backend tests on PyTorch"; \
		KERAS_BACKEND=torch $(PY) -m pytest -q -m backend; \
	else echo "--- PyTorch not installed: backend tests ran on TensorFlow only"; fi

clean:
	rm -rf $(VENV) demo-output .pytest_cache
