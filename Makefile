# Two entry points for a fresh machine (see README.md):
#   make demo   creates .venv, installs the package, trains on built-in data, segments, prints scores, writes pictures
#   make test   creates .venv if needed, checks notebooks and package agree, runs every notebook test and the pytest suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
export OMP_NUM_THREADS ?= 2
export MPLBACKEND ?= Agg

.PHONY: demo test env export docs readme book clean gpu textures
env: $(VENV)/.installed
$(VENV)/.installed: settings.ini setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -e ".[dev]"
	touch $@

demo: env
	$(BIN)/fd_demo --out runs/demo

test: env
	@state() { git diff -- factorized_diffusion 2>/dev/null; git status --porcelain -- factorized_diffusion 2>/dev/null; }; \
	before=$$(state | cksum); $(BIN)/nbdev_export; after=$$(state | cksum); \
	if [ "$$before" != "$$after" ]; then \
	  echo "nbdev_export changed factorized_diffusion/: the package and the notebooks disagree. Run nbdev_export and commit both."; exit 1; fi
	$(BIN)/pyflakes factorized_diffusion
	OMP_NUM_THREADS=1 $(BIN)/nbdev_test --n_workers 2 --timing
	OMP_NUM_THREADS=1 $(BIN)/pytest -q -n 2 tests

# On a machine with a CUDA GPU (issues 19, 29): the GPU tests, the benchmark rows and a 64 px training run, each under
# its own time cap (about 8 minutes in all), everything in data/gpu/<date>/ (bench/make_gpu.py; its dry run on the CPU
# is tests/test_make_gpu.py). The notebook cells flagged cuda: nbdev_test --flags cuda --path nbs/studies/07_benchmarks.ipynb
gpu: env
	$(BIN)/python bench/make_gpu.py

export: env
	$(BIN)/nbdev_export

# The harder textured data (issue 16, nbs/studies/05_texture_study.ipynb): about 25 CPU minutes of training from the shipped
# shapes model (--preset from_shapes32, the recipe of the shipped textures32: 1000 steps, t_power 2), then its scores next to GrabCut and colour K-means on the
# same held-out images. make demo trains the same recipe for 600 steps (fd_demo's DEMOS).
textures: env
	$(BIN)/fd_train --out runs/textures --data textures --preset from_shapes32 --eval_every 100 --report_after False
	$(BIN)/fd_segment runs/textures --data textures --baselines True --supervised_steps 0 --out runs/textures_segment

# README.md from nbs/index.ipynb (settings.ini readme_nb; nbdev_readme needs Quarto, which cannot be installed here)
readme: env
	$(BIN)/python tools/build_readme.py

# The method chain's figures: execute these notebooks as nbdev_test does and store their outputs in place (issue 45),
# then the README from nbs/index.ipynb. A few minutes on a 2-core CPU.
BOOK := index 03_scheduler 04_unet_blocks 05_unet 06_factorized 07_learner 07d_training 08_sampling 09_segment
book: env
	OMP_NUM_THREADS=2 $(BIN)/python tools/build_docs.py --store $(BOOK)
	$(BIN)/python tools/build_readme.py

# The documentation site in _site/ (nbdev's processors + nbconvert; Quarto cannot be installed here), checked in
# headless Chromium (Debian: apt-get install chromium): pages load with their figures, no broken links, screenshots.
docs: env
	OMP_NUM_THREADS=1 $(BIN)/python tools/build_docs.py --check

clean:
	rm -rf runs _proc _docs _site .pytest_cache
