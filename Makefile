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
	$(PY) -m pytest -n $(JOBS) --dist loadgroup -p no:cacheprovider tests

# The default example: the digits CNN as a Vitis HLS project at 4-bit weights, verified bit-exact by
# g++ C simulation, and its accuracy on the test split from the bit-accurate simulator.
run: install
	@mkdir -p $(OUT)
	$(HWC) compile hw_examples/digits_cnn/model.onnx --target xilinx --wbits 4 \
		--calib hw_examples/digits_data/calib_img.npz:x -o $(OUT)/digits_cnn_xilinx --force
	$(HWC) verify $(OUT)/digits_cnn_xilinx --samples 1000
	$(HWC) simulate $(OUT)/digits_cnn_xilinx --input hw_examples/digits_data/test_img.npz:x_test \
		--labels hw_examples/digits_data/test_img.npz:y_test

# hwc next to hls4ml, qonnx and onnxruntime, measured in the same run: bench/results.md
bench: install
	$(PY) bench/run.py

clean:
	rm -rf $(OUT) build *.egg-info
