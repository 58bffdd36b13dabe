"""The module name `keras.applications.mobilenetv2` that Keras 2.2.4 keeps
for older code: the same as `mobilenet_v2`."""
from refkeras.applications.mobilenet_v2 import (MobileNetV2, decode_predictions,  # noqa: F401
                                                preprocess_input)
