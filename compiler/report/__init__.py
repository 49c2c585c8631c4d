"""`hwc report`: one self-contained HTML page (inline SVG plots, no network) from the figures of
`hwc inspect --json` and, when data is given, the simulator's per-layer outputs."""
