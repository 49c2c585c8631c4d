"""hwc compiler: front end, IR, passes, simulator and CLI."""
