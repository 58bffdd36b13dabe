"""Tools that run other people's Keras code against refkeras.

`keras_alias` makes `import keras` import refkeras; `keras_tests` runs Keras
2.2.4's own test suite through that alias and tabulates the results. Neither is
installed with refkeras: they are run from a clone of this repository.
"""
