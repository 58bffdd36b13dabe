"""The exceptions raised by saving and loading.

A file that cannot be used raises a `ModelFileError`, which names the file
and the problem: `CorruptModelFileError` (not a readable, complete Keras
file), `WeightsMismatchError` (readable, but the weights do not fit the
model) or `ModelConfigError` (the architecture or training configuration
cannot be rebuilt). `OverwriteRefusedError` is raised by writers when
`overwrite=False` and nobody can be asked, `UnsafeYAMLError` by the YAML
reader.
"""


class ModelFileError(ValueError):
    """Base class: a model or weights file could not be used.

    Subclasses `ValueError`, which Keras 2.2.4 raised in these cases.

    # Attributes
        filepath: the file (a path, or a description of the h5py object).
        problem: what is wrong, in words.
    """

    def __init__(self, filepath, problem):
        self.filepath = filepath
        self.problem = problem
        super(ModelFileError, self).__init__('%s: %s' % (filepath, problem))


class CorruptModelFileError(ModelFileError):
    """The file is not a readable Keras HDF5 file: not HDF5 at all, truncated,
    damaged, or missing a group, an attribute or a weight that its own index
    lists."""


class WeightsMismatchError(ModelFileError):
    """The file is readable but its weights do not fit the model (number of
    layers with weights, number of weights in a layer, or a shape)."""


class ModelConfigError(ModelFileError):
    """The architecture or training configuration stored in the file cannot be
    rebuilt: invalid JSON, an unknown (custom) object, a `Lambda` layer that
    would run code from the file, or a setting refkeras does not support. The
    message of the underlying error is included."""


class OverwriteRefusedError(FileExistsError):
    """`overwrite=False` and the file exists, and nobody could be asked (no
    terminal), or the user answered no in a context that needs the file."""


class UnsafeYAMLError(ValueError):
    """A YAML model description holds a Python object tag that could run code."""
