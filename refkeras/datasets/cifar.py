"""Reading the batch files of CIFAR-10 and CIFAR-100 (Python pickles)."""
from refkeras.datasets._loading import load_pickle


def load_batch(fpath, label_key='labels'):
    """Reads one CIFAR batch file.

    # Arguments
        fpath: the file.
        label_key: the dictionary key of the labels ('labels' for CIFAR-10,
            'fine_labels' or 'coarse_labels' for CIFAR-100).

    # Returns
        `(data, labels)`: uint8 images of shape (n, 3, 32, 32) and the list
        of labels.

    # Raises
        KeyError: naming the missing key.
        pickle.UnpicklingError: if the file holds anything but arrays and
            plain values.
    """
    raw = load_pickle(fpath, encoding='bytes')
    batch = {(k.decode('utf8') if isinstance(k, bytes) else k): v for k, v in raw.items()}
    for key in ('data', label_key):
        if key not in batch:
            raise KeyError('CIFAR batch %s has no %r entry; it holds %s.'
                           % (fpath, key, sorted(batch)))
    data = batch['data']
    return data.reshape(data.shape[0], 3, 32, 32), batch[label_key]
