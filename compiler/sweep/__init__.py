"""`hwc sweep`: design-space exploration over compile options.

A point is (model content hash, compile options) → one result row (accuracy from the bit-accurate
simulator, cost, durations). Points are evaluated by the same compile function `hwc compile` runs
(`evaluate.py`), in a local process pool (`local_pool.py`) or as Ray tasks (`ray_pool.py`); every
finished point is appended to an SQLite table (`store.py`); `pareto.py` and `report.py` turn the
table into the non-dominated front, a text table and an offline HTML page.
"""
