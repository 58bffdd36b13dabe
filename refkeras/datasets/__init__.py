"""Small datasets with Keras 2.2.4's `load_data()` functions.

Each downloads its files once through `refkeras.utils.get_file` into
`<Keras directory>/datasets/` (`~/.keras/datasets/`, or `$KERAS_HOME/datasets/`),
checking their hashes; offline, the error names the path where a file can be
placed by hand. `digits` ships with refkeras and needs no download.
"""
from refkeras.datasets import boston_housing  # noqa: F401
from refkeras.datasets import cifar10  # noqa: F401
from refkeras.datasets import cifar100  # noqa: F401
from refkeras.datasets import digits  # noqa: F401
from refkeras.datasets import fashion_mnist  # noqa: F401
from refkeras.datasets import imdb  # noqa: F401
from refkeras.datasets import mnist  # noqa: F401
from refkeras.datasets import reuters  # noqa: F401
