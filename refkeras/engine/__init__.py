"""The engine: layers, nodes, networks, models and the training loop."""
from refkeras.engine.base_layer import InputSpec, Layer  # noqa: F401
from refkeras.engine.input_layer import Input, InputLayer  # noqa: F401
from refkeras.engine.network import get_source_inputs  # noqa: F401
