"""Runnable examples: `python -m refkeras.examples.digits_mlp`."""
