"""The connector contract suite: one set of tests every connector passes.

Backends plug in through harnesses (``harness.py``), listed in
``registry.py``.
"""
