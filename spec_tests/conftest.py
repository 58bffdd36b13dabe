"""Test configuration: hypothesis profiles, an isolated Keras home, shared fixtures.

Profiles (choose with HYPOTHESIS_PROFILE or --hypothesis-profile):
- `ci`: bounded examples, no deadline (the CUDA simulator is slow); the default.
- `dev`: more examples, for local and GPU runs.
"""
import os
import tempfile
from urllib.error import URLError

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile('ci', max_examples=25, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile('dev', max_examples=300, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get('HYPOTHESIS_PROFILE', 'ci'))

# Never read or write the developer's real ~/.keras from the tests.
if 'KERAS_HOME' not in os.environ:
    os.environ['KERAS_HOME'] = tempfile.mkdtemp(prefix='refkeras-test-home-')


# --- fixtures the applications' tests use (`pytest.mark.usefixtures('isolated_keras_home')`) ---

@pytest.fixture
def isolated_keras_home(tmp_path, monkeypatch):
    """Each test gets its own Keras directory (so its own `models/` cache)."""
    home = tmp_path / 'keras_home'
    home.mkdir()
    monkeypatch.setenv('KERAS_HOME', str(home))
    return home


@pytest.fixture
def offline(monkeypatch):
    """Downloads fail as they do without network access."""
    # Imported here: the FAQ tests may grade another Keras, without refkeras.
    from refkeras.utils import data_utils

    def no_network(url, *args, **kwargs):
        raise URLError('[Errno -2] Name or service not known (network disabled by the test)')
    monkeypatch.setattr(data_utils, 'urlopen', no_network)


@pytest.fixture
def channels_first():
    """The block runs with image_data_format 'channels_first', restored afterwards."""
    # Imported here: the FAQ tests may grade another Keras, without refkeras.
    from refkeras import backend as K
    previous = K.image_data_format()
    K.set_image_data_format('channels_first')
    try:
        yield
    finally:
        K.set_image_data_format(previous)
