"""Keras 1 compatibility, as Keras 2.2.4's `keras.legacy`.

- `interfaces`: the decorators that let Keras 2 layers, optimizers and
  generator methods accept Keras 1 argument names and positional forms, with
  a warning showing the Keras 2 call.
- `layers`: the deprecated Keras 1 layers Keras 2.2.4 still has
  (`MaxoutDense`, `Highway`, `AtrousConvolution1D`, `AtrousConvolution2D`),
  also importable from `refkeras.layers`.
"""
