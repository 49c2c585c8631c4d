"""Cost before synthesis: one model per target family (hls.py for xilinx/intel, tflite.py for the Edge
TPU, ops.py for openvino/ncs2/sim), all returning figures in the schema of figures.py; the parts
table (parts.json) and the device-fit check (fit.py)."""
