"""What chainrule does differently on a GPU: fused kernels, cuBLAS for captured steps, CUDA graphs.

Nothing here imports CuPy at import time; each piece asks chainrule.backend for it when it
is first used, so this package is importable (and inert) on a machine without a GPU.
"""
