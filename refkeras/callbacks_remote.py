"""The `RemoteMonitor` callback: each epoch's logs posted to a web server.

Uses Python's own HTTP client (`urllib`); Keras 2.2.4 used `requests`.
"""
import json
import urllib.error
import urllib.parse
import urllib.request
import warnings

import numpy as np

from refkeras.callbacks import Callback


class RemoteMonitor(Callback):
    """Posts `{'epoch': epoch, **logs}` as JSON at each epoch end.

    The request is an HTTP POST to `root + path`: a form with one field
    `field` holding the JSON text, or with `send_as_json=True` the JSON
    itself (`Content-Type: application/json`). If the server cannot be
    reached or answers with an error, a warning says so and training goes on.

    # Arguments
        root: the server's root URL.
        path: the path, relative to `root`, the logs are posted to.
        field: the form field holding the JSON (when not `send_as_json`).
        headers: optional dict of extra HTTP headers.
        send_as_json: post the JSON itself rather than a form.
        timeout: seconds to wait for the server (refkeras's addition; Keras
            2.2.4 waited indefinitely).

    # Raises
        ValueError: if `root` is not an http or https URL.
    """

    def __init__(self, root='http://localhost:9000', path='/publish/epoch/end/', field='data',
                 headers=None, send_as_json=False, timeout=10.):
        super(RemoteMonitor, self).__init__()
        if urllib.parse.urlparse(root).scheme not in ('http', 'https'):
            raise ValueError('RemoteMonitor: `root` must be an http:// or https:// URL; '
                             'received %r.' % (root,))
        self.root = root
        self.path = path
        self.field = field
        self.headers = headers
        self.send_as_json = send_as_json
        self.timeout = timeout

    def on_epoch_end(self, epoch, logs=None):
        payload = {'epoch': epoch}
        for name, value in (logs or {}).items():
            payload[name] = value.item() if isinstance(value, (np.ndarray, np.generic)) \
                else value
        text = json.dumps(payload)
        headers = dict(self.headers or {})
        if self.send_as_json:
            body = text.encode('utf-8')
            headers.setdefault('Content-Type', 'application/json')
        else:
            body = urllib.parse.urlencode({self.field: text}).encode('utf-8')
            headers.setdefault('Content-Type', 'application/x-www-form-urlencoded')
        request = urllib.request.Request(self.root + self.path, data=body, headers=headers,
                                         method='POST')
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read()
        except (urllib.error.URLError, OSError, ValueError) as error:
            warnings.warn('Warning: could not reach RemoteMonitor root server at %s (%s)'
                          % (self.root, getattr(error, 'reason', error)))
