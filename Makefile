# The two entry points of the README: `make demo` and `make test`.
# Both create (or refresh) .venv and install the project with all its extras and the
# CPU torch; `make test` adds the test tools of requirements-dev.txt and the frameworks
# the tests compare against (not published with the package).
# The CPU build of torch is pinned here, for the dev set-up only; the package
# itself asks for a range (users bring their own torch).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_STAMP := $(VENV)/.installed-demo
TORCH_DEV := torch==2.13.0
# timm is a parity reference for tests/test_timm.py. Its requirements pull
# torchvision, whose PyPI build does not import beside this CPU torch, and the
# tests need only timm.scheduler (torch alone): so it is installed without them.
TIMM_DEV := timm==1.0.31
# DeepSpeed is the parity reference for tests/test_deepspeed.py (its lr_schedules
# and its engine on the CPU accelerator). Installed after the CPU torch, which it
# keeps; pinned so parity follows one release.
DEEPSPEED_DEV := deepspeed==0.19.8
# Megatron-Core is the parity reference for tests/test_megatron.py (its
# OptimizerParamScheduler imports on CPU without Transformer Engine or Apex).
MEGATRON_DEV := megatron-core==0.16.1
# jax, optax and Keras 3 for tests/test_interop.py (lrcore.to_optax, lrcore.to_keras,
# run inside optax's and Keras's own optimizers, Keras on its torch and jax backends).
JAX_DEV := jax==0.10.2 jaxlib==0.10.2 optax==0.2.8 keras==3.15.1
# fairseq (fairseq-fixed, its maintained fork for Python 3.11+) is the parity reference
# for tests/test_fairseq.py. It ships as an sdist whose setup.py compiles C++ and Cython
# extensions against torch (an isolated build would pull a CUDA torch); the LR
# schedulers need none of them, and its setup.py skips them when READTHEDOCS is set.
# Its requirements name torchaudio, which would replace the CPU torch, so it goes in
# without them, after the packages its import needs.
FAIRSEQ_DEV := fairseq-fixed==0.12.3.1
# headless Chromium and its driver, Debian's packages, for tests/test_explorer.py (Selenium
# drives them through the system chromedriver: no browser is downloaded by a test tool)
BROWSER_DEV := chromium chromium-driver
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
FAIRSEQ_DEPS := 'setuptools>=70.1' hydra-core==1.3.2 omegaconf==2.3.0 bitarray sacrebleu scikit-learn

.PHONY: demo test docs bench fuzz lint clean

# what the demo needs: lrcore with its extras, and torch
$(DEMO_STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q $(TORCH_DEV)
	$(PY) -m pip install -q -e '.[all]'
	touch $(DEMO_STAMP)

# and what the tests need: the test tools and every framework lrcore is proven against
$(STAMP): $(DEMO_STAMP) requirements-dev.txt
	(command -v chromium && command -v chromedriver) >/dev/null || \
		($(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q $(BROWSER_DEV))
	$(PY) -m pip install -q -r requirements-dev.txt
	$(PY) -m pip install -q --no-deps $(TIMM_DEV)
	$(PY) -m pip install -q $(DEEPSPEED_DEV) $(MEGATRON_DEV) $(JAX_DEV)
	$(PY) -m pip install -q $(FAIRSEQ_DEPS)
	READTHEDOCS=1 $(PY) -m pip install -q --no-deps --no-build-isolation $(FAIRSEQ_DEV)
	touch $(STAMP)

demo: $(DEMO_STAMP)
	$(PY) -m lrcore demo -o gallery

# the kernels compiled once, on every core, into the cache the tests read (`lrcore warmup`,
# as a deployment would: otherwise each test process compiles what it first uses); then
# every core (pytest-xdist), each test file on one worker (its module fixtures once)
test: $(STAMP)
	$(PY) -m lrcore warmup --cabi --jobs $$(nproc 2>/dev/null || echo 2)
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict --quiet
	$(PY) -m pytest -q -n auto --dist loadfile

# the documentation site (mkdocs-material, mkdocstrings) into site/; the reference pages
# and figures are generated from the family declarations (mkdocs_hooks.py, lrcore/_docs.py)
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict

# the hypothesis suites against torch.optim and timm with 25x the examples of `make test`
fuzz: $(STAMP)
	LRCORE_EXAMPLES=5000 $(PY) -m pytest -q tests/test_hypothesis.py tests/test_lrsched_hypothesis.py \
		tests/test_timm.py

bench: $(STAMP)
	$(PY) -m pytest benchmarks -q --benchmark-enable --benchmark-columns=min,median,mean
	$(PY) benchmarks/first_use.py --numerics torch,closed

lint: $(STAMP)
	$(VENV)/bin/ruff check lrcore python tests benchmarks

clean:
	rm -rf $(VENV) build *.egg-info site
