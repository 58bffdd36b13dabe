"""Test configuration: hypothesis profiles and an isolated Keras home.

Profiles (choose with HYPOTHESIS_PROFILE or --hypothesis-profile):
- `ci`: bounded examples, no deadline (the CUDA simulator is slow); the default.
- `dev`: more examples, for local and GPU runs.
"""
import os
import tempfile

from hypothesis import HealthCheck, settings

settings.register_profile('ci', max_examples=25, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile('dev', max_examples=300, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get('HYPOTHESIS_PROFILE', 'ci'))

# Never read or write the developer's real ~/.keras from the tests.
if 'KERAS_HOME' not in os.environ:
    os.environ['KERAS_HOME'] = tempfile.mkdtemp(prefix='refkeras-test-home-')
