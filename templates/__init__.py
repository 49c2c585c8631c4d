"""Kernel headers and jinja2 templates shipped as package data."""
