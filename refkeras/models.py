"""Model classes and model-level functions (`from refkeras.models import Sequential, Model`)."""
from refkeras.engine.sequential import Sequential  # noqa: F401
from refkeras.engine.training import Model  # noqa: F401
