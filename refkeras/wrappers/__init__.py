"""Wrappers that let refkeras models be used by other libraries:
`scikit_learn` (`KerasClassifier`, `KerasRegressor`)."""
