"""accel: the Numba CUDA backend for refkeras (not implemented yet).

This package is intentionally empty until its issue lands: it registers no
backend and provides no kernels, so nothing here can be mistaken for working
acceleration.
"""
