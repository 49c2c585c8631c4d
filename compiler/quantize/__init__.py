"""Quantization methods on the float IR and calibration data, each ending in an ordinary typed graph:
post-training weight quantization (ptq.py: rtn, gptq, adaround over grid.py), activation-range
search (act_ranges.py)."""
