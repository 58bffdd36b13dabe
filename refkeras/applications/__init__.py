"""Image classification models with ImageNet weights (FAQ: "How can I use
pre-trained models in Keras?").

    from refkeras.applications.vgg16 import VGG16
    model = VGG16(weights='imagenet', include_top=True)

Each module (`xception`, `vgg16`, `vgg19`, `resnet50`, `inception_v3`,
`inception_resnet_v2`, `mobilenet`, and beyond the FAQ's seven `densenet`,
`mobilenet_v2` (also as `mobilenetv2`) and `nasnet`) has the model functions, their
`preprocess_input` and `decode_predictions`; `imagenet_utils` has the
general versions of the last two. Weights are downloaded once into
`<Keras dir>/models/` (`$KERAS_HOME` or `~/.keras`); without network access
the error names the file to place there by hand.
"""
from refkeras.applications._common import CachedFileUnavailableError  # noqa: F401
from refkeras.applications._common import PretrainedWeightsUnavailableError  # noqa: F401
from refkeras.applications.densenet import DenseNet121, DenseNet169, DenseNet201  # noqa: F401
from refkeras.applications.inception_resnet_v2 import InceptionResNetV2  # noqa: F401
from refkeras.applications.inception_v3 import InceptionV3  # noqa: F401
from refkeras.applications.mobilenet import MobileNet  # noqa: F401
from refkeras.applications.mobilenet_v2 import MobileNetV2  # noqa: F401
from refkeras.applications.nasnet import NASNetLarge, NASNetMobile  # noqa: F401
from refkeras.applications.resnet50 import ResNet50  # noqa: F401
from refkeras.applications.vgg16 import VGG16  # noqa: F401
from refkeras.applications.vgg19 import VGG19  # noqa: F401
from refkeras.applications.xception import Xception  # noqa: F401
