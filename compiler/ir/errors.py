"""Errors of the IR layer."""

from __future__ import annotations


class IRError(Exception):
    """An inconsistent graph: a pass or the front end broke an invariant."""
