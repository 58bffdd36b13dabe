"""Numba CUDA kernels, grouped by kind, each with a launcher working on `DeviceArray`s.

- `elementwise`: maps of one to three broadcast operands (the arithmetic,
  activations and their gradients); the scalar functions they apply live in
  `scalar`.
- `reduce`: sums, products, extrema, any/all, argmax/argmin, scans; no
  atomics, a fixed combination order, so results repeat bit for bit.
- `softmax`: softmax and its gradient, one pass per row.
- `gemm`: tiled shared-memory matrix product with register blocking (batched).
- `copy`: fill, cast, strided copies (transpose, slices, pad, concatenate,
  tile, repeat) and a tiled shared-memory transpose.
- `gather`: gather, one-hot, and the deterministic segment sum behind the
  gradients of gather and advanced indexing.
- `random`: counter-based (Philox-4x32-10) random draws.

Importing any of these modules requires a device (`accel.device.require`).
"""
