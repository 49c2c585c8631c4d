# The project's two contracts (see README.md):
#   make run   fresh machine -> venv, install, compile an example end to end
#   make test  fresh machine -> venv, install, full test suite
# The package is installed non-editable, so tests exercise what a user gets.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
HWC    := $(VENV)/bin/hwc
OUT    ?= out
# pytest workers: the suite is sized for 2 cores
JOBS   ?= 2

.PHONY: run test install bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# torch is pinned (==2.13.0, CPU wheel) by the [test] extra; anything unpinned would pull CUDA.
install: $(PY)
	$(PY) -m pip install --quiet ".[test]"

test: install
	$(PY) -m pytest -n $(JOBS) -p no:cacheprovider tests

run: install
	@mkdir -p $(OUT)
	$(HWC) inspect hw_examples/digits_cnn/model.onnx
	$(HWC) simulate hw_examples/digits_cnn/model.onnx \
		--input hw_examples/digits_data/test_img.npz:x_test \
		--labels hw_examples/digits_data/test_img.npz:y_test \
		-o $(OUT)/digits_cnn_logits.npy

clean:
	rm -rf $(OUT) build *.egg-info
