"""The text progress bar that `fit`, `evaluate` and `predict` print.

`Progbar` draws lines such as

    1024/1797 [================>.............] - ETA: 0s - loss: 0.4321 - acc: 0.8712

and, once `current` reaches `target`,

    1797/1797 [==============================] - 1s 402us/step - loss: 0.4102 - acc: 0.8790

The displayed value of a metric is its running average over the steps seen so
far, each update weighted by how far `current` advanced (the batch size when
counting samples). Stateful metrics are shown as their latest value.

On a terminal (or in a Jupyter kernel) the bar is redrawn in place with a
carriage return; anywhere else (a pipe, a log file) every redraw starts a new
line. Both behaviours, and the exact text, follow Keras 2.2.4.

Difference from Keras 2.2.4, on purpose: with `verbose=2` Keras switched to
scientific notation for every value not greater than 1e-3, so a negative loss
(e.g. `cosine_proximity`) printed as `-9.1234e-01`; here both verbosity modes
use the same rule, `%.4e` only when `abs(value) <= 1e-3`.
"""
import sys
import time
from collections import OrderedDict

import numpy as np


def _now():
    """The wall clock, in seconds (one place for tests to replace)."""
    return time.time()


def format_value(value):
    """Formats a metric value the way the Keras progress bar does.

    # Arguments
        value: a number (or an array, whose mean is shown).

    # Returns
        `'%.4f'` of the value, or `'%.4e'` when its magnitude is at most 1e-3.
    """
    value = np.mean(value)
    if abs(value) > 1e-3:
        return '%.4f' % value
    return '%.4e' % value


def format_eta(seconds):
    """Formats a remaining time as `'7s'`, `'2:05'` (m:ss) or `'1:02:05'` (h:mm:ss)."""
    if seconds > 3600:
        return '%d:%02d:%02d' % (seconds // 3600, (seconds % 3600) // 60, seconds % 60)
    if seconds > 60:
        return '%d:%02d' % (seconds // 60, seconds % 60)
    return '%ds' % seconds


def format_time_per_step(seconds):
    """Formats the time of one step as `'2s/step'`, `'15ms/step'` or `'402us/step'`."""
    if seconds >= 1:
        return '%.0fs/step' % seconds
    if seconds >= 1e-3:
        return '%.0fms/step' % (seconds * 1e3)
    return '%.0fus/step' % (seconds * 1e6)


def _stdout_is_dynamic():
    """Whether the bar can be redrawn in place: stdout is a TTY, or we run in Jupyter."""
    isatty = getattr(sys.stdout, 'isatty', None)
    try:
        tty = bool(isatty()) if isatty is not None else False
    except (ValueError, OSError):  # a closed or detached stream
        tty = False
    return tty or 'ipykernel' in sys.modules


class Progbar(object):
    """Displays a progress bar.

    # Arguments
        target: total number of steps expected (a non-negative integer), or
            None if unknown.
        width: width of the bar itself, in characters.
        verbose: 0 (silent), 1 (a bar redrawn at each update, at most every
            `interval` seconds) or 2 (one line, printed when `target` is
            reached; at every update when `target` is None).
        interval: minimum time between two redraws in `verbose=1`, in seconds.
            The last update (`current >= target`) is always drawn.
        stateful_metrics: iterable of metric names that are displayed as
            their latest value instead of being averaged over the steps.

    # Raises
        ValueError: if `target`, `width`, `verbose` or `interval` is invalid.
    """

    def __init__(self, target, width=30, verbose=1, interval=0.05,
                 stateful_metrics=None):
        if target is not None and (isinstance(target, bool) or
                                   not isinstance(target, (int, np.integer)) or target < 0):
            raise ValueError('Progbar: `target` must be a non-negative integer or None; '
                             'received %r.' % (target,))
        if isinstance(width, bool) or not isinstance(width, (int, np.integer)) or width < 1:
            raise ValueError('Progbar: `width` must be a positive integer; received %r.'
                             % (width,))
        if verbose not in (0, 1, 2):
            raise ValueError('Progbar: `verbose` must be 0, 1 or 2; received %r.' % (verbose,))
        if interval < 0:
            raise ValueError('Progbar: `interval` must be >= 0; received %r.' % (interval,))
        self.target = None if target is None else int(target)
        self.width = int(width)
        self.verbose = verbose
        self.interval = interval
        self.stateful_metrics = set(stateful_metrics) if stateful_metrics else set()

        self._dynamic_display = _stdout_is_dynamic()
        self._total_width = 0
        self._seen_so_far = 0
        # name -> [weighted sum of values, total weight]; insertion order is display order.
        self._values = OrderedDict()
        self._start = _now()
        self._last_update = 0

    def update(self, current, values=None):
        """Updates the progress bar.

        # Arguments
            current: index of the current step (samples or batches seen so far).
            values: list of `(name, value_for_last_step)` pairs. A stateful
                metric's value is displayed as it is; any other value enters
                a running average weighted by `current - previous current`.
        """
        self._accumulate(current, values)
        now = _now()
        if self.verbose == 1:
            if (now - self._last_update < self.interval and
                    self.target is not None and current < self.target):
                return
            self._draw_bar(current, now)
        elif self.verbose == 2:
            if self.target is None or current >= self.target:
                line = ' - %.0fs' % (now - self._start) + self._metrics_text() + '\n'
                sys.stdout.write(line)
                sys.stdout.flush()
        self._last_update = now

    def add(self, n, values=None):
        """Advances the bar by `n` steps (see `update` for `values`)."""
        self.update(self._seen_so_far + n, values)

    # -- internals -------------------------------------------------------

    def _accumulate(self, current, values):
        if values is None:
            values = []
        elif hasattr(values, 'items'):
            values = list(values.items())
        step = current - self._seen_so_far
        for name, value in values:
            if name in self.stateful_metrics:
                self._values[name] = [value, 1]
            elif name in self._values:
                self._values[name][0] += value * step
                self._values[name][1] += step
            else:
                self._values[name] = [value * step, step]
        self._seen_so_far = current

    def _metrics_text(self):
        text = ''
        for name, (total, count) in self._values.items():
            text += ' - %s: %s' % (name, format_value(total / max(1, count)))
        return text

    def _bar_text(self, current):
        if self.target is None:
            return '%7d/Unknown' % current
        digits = len(str(self.target))
        text = '%*d/%d [' % (digits, current, self.target)
        progress = float(current) / self.target if self.target else 1.0
        filled = int(self.width * progress)
        if filled > 0:
            text += '=' * (filled - 1)
            text += '>' if current < self.target else '='
        text += '.' * (self.width - filled)
        return text + ']'

    def _draw_bar(self, current, now):
        previous_width = self._total_width
        if self._dynamic_display:
            sys.stdout.write('\b' * previous_width)
            sys.stdout.write('\r')
        else:
            sys.stdout.write('\n')

        bar = self._bar_text(current)
        sys.stdout.write(bar)

        elapsed = now - self._start
        time_per_step = elapsed / current if current else 0
        if self.target is not None and current < self.target:
            info = ' - ETA: %s' % format_eta(time_per_step * (self.target - current))
        else:
            info = ' - %.0fs %s' % (elapsed, format_time_per_step(time_per_step))
        info += self._metrics_text()

        self._total_width = len(bar) + len(info)
        if previous_width > self._total_width:
            # Blank out what is left of a longer previous line.
            info += ' ' * (previous_width - self._total_width)
        if self.target is not None and current >= self.target:
            info += '\n'
        sys.stdout.write(info)
        sys.stdout.flush()
