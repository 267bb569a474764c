"""chainrule's CPU benchmark suite: chainrule against a plain NumPy loop, PyTorch and scikit-learn.

Run ``python -m benchmarks`` from the repository root (``--smoke`` for a seconds-long run
on tiny sizes); it writes ``docs/benchmarks.md`` and ``docs/images/benchmarks.png``.
Contenders run side by side in one process, alternating epoch by epoch, so that drift of
the machine falls on all of them alike.
"""
