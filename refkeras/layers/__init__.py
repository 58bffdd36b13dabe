"""All layers, importable as `from refkeras.layers import Dense, ...` (Keras 2.2.4 names)."""
from refkeras.engine.base_layer import InputSpec, Layer  # noqa: F401
from refkeras.engine.input_layer import Input, InputLayer  # noqa: F401
from refkeras.layers.core import (Activation, ActivityRegularization, Dense,  # noqa: F401
                                  Dropout, Flatten, Lambda, Masking, Permute, RepeatVector,
                                  Reshape)
from refkeras.layers.merge import (Add, Average, Concatenate, Dot, Maximum,  # noqa: F401
                                   Minimum, Multiply, Subtract, add, average, concatenate, dot,
                                   maximum, minimum, multiply, subtract)
from refkeras.utils.generic_utils import deserialize_keras_object, serialize_keras_object


def serialize(layer):
    """`{'class_name': ..., 'config': ...}` for a layer (or model)."""
    return serialize_keras_object(layer)


def deserialize(config, custom_objects=None):
    """Rebuilds a layer (or model) from `serialize`'s output.

    # Raises
        ValueError: for an unknown class name, saying how to pass custom objects.
    """
    from refkeras.engine.sequential import Sequential
    from refkeras.engine.training import Model
    objects = {name: obj for name, obj in globals().items()
               if isinstance(obj, type) and issubclass(obj, Layer)}
    objects['Model'] = Model
    objects['Sequential'] = Sequential
    return deserialize_keras_object(config, module_objects=objects,
                                    custom_objects=custom_objects, printable_module_name='layer')
