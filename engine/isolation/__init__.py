"""Scripts isolated by the OS: diagram scripts, conditions and decision cells evaluated in a pool
of worker processes with hard resource limits (``pool.py``, ``worker.py``), the values crossing as
JSON (``codec.py``), only provably cheap expressions staying in-process (``inline.py``), all behind
the :class:`~engine.sandbox.Sandbox` interface (``sandbox.py``). See docs/operations.md, "Scripts".

This package's ``__init__`` stays empty: the worker process imports ``engine.isolation.worker``
and should load nothing it does not need.
"""
