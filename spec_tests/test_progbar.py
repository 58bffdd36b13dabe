"""The Keras 2.2.4 progress bar (`refkeras.utils.progbar.Progbar`).

Every expected line below was worked out by hand from the bar's rules:
`int(width * current / target)` cells filled (the last one `>` until the
target is reached), `ETA: <s>` while running, `<elapsed>s <per-step>` at the
end, each metric the running mean of its values weighted by the steps they
cover, `%.4f` (or `%.4e` when `abs(value) <= 1e-3`).
The clock is replaced by a settable one so the times are exact.
"""
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from refkeras.utils import progbar as progbar_module
from refkeras.utils.progbar import Progbar, format_eta, format_time_per_step, format_value


class FakeStdout(object):
    """A stream that records what is written and says whether it is a TTY.

    Use it as a context manager: inside, it is `sys.stdout` (set in the test
    body, since pytest's own capture replaces `sys.stdout` after the fixtures).
    """

    def __init__(self, tty):
        self.tty = tty
        self.parts = []
        self._saved = None

    def __enter__(self):
        self._saved = sys.stdout
        sys.stdout = self
        return self

    def __exit__(self, *exc_info):
        sys.stdout = self._saved

    def write(self, text):
        self.parts.append(text)

    def flush(self):
        pass

    def isatty(self):
        return self.tty

    @property
    def text(self):
        return ''.join(self.parts)


class Clock(object):
    def __init__(self, t):
        self.t = t


@pytest.fixture
def clock(monkeypatch):
    fake = Clock(1000.0)
    monkeypatch.setattr(progbar_module, '_now', lambda: fake.t)
    return fake


@pytest.fixture
def pipe(monkeypatch):
    """stdout redirected to a non-TTY (a pipe or a log file), outside Jupyter."""
    stream = FakeStdout(tty=False)
    monkeypatch.delitem(sys.modules, 'ipykernel', raising=False)
    return stream


@pytest.fixture
def terminal(monkeypatch):
    stream = FakeStdout(tty=True)
    monkeypatch.delitem(sys.modules, 'ipykernel', raising=False)
    return stream


# -- formatting helpers ------------------------------------------------------

@pytest.mark.parametrize('value, text', [
    (0.4321, '0.4321'),
    (12.0, '12.0000'),
    (-0.5, '-0.5000'),
    (0.0011, '0.0011'),
    (0.001, '1.0000e-03'),      # not strictly above 1e-3
    (0.0, '0.0000e+00'),
    (-1e-5, '-1.0000e-05'),
    (np.array([0.25, 0.75]), '0.5000'),   # an array shows its mean
])
def test_format_value(value, text):
    assert format_value(value) == text


@pytest.mark.parametrize('seconds, text', [
    (0.3, '0s'), (7.9, '7s'), (60, '60s'), (125, '2:05'), (3600, '60:00'), (3725, '1:02:05'),
])
def test_format_eta(seconds, text):
    assert format_eta(seconds) == text


@pytest.mark.parametrize('seconds, text', [
    (2.0, '2s/step'), (1.0, '1s/step'), (0.015, '15ms/step'), (0.001, '1ms/step'),
    (0.000402, '402us/step'),
])
def test_format_time_per_step(seconds, text):
    assert format_time_per_step(seconds) == text


# -- verbose=1 on a pipe: one line per redraw --------------------------------

def test_verbose_1_non_tty_lines_and_weighted_average(clock, pipe):
    with pipe:
        bar = Progbar(target=10, width=10)
        clock.t = 1000.2
        bar.update(4, [('loss', 0.5), ('acc', 0.25)])
        clock.t = 1000.22    # 0.02 s after the last redraw: under the 0.05 s interval, not drawn
        bar.update(8, [('loss', 0.25), ('acc', 0.75)])
        clock.t = 1002.0
        bar.update(10, [('loss', 1.0), ('acc', 1.0)])
        # loss: (0.5*4 + 0.25*4 + 1.0*2) / 10 = 0.5;  acc: (0.25*4 + 0.75*4 + 1.0*2) / 10 = 0.6
        # the first line: 4/10 -> 4 cells, ETA 0.05 s/step * 6 = 0.3 s;
        # the last: 2 s / 10 = 200 ms/step
        assert pipe.text == (
            '\n 4/10 [===>......] - ETA: 0s - loss: 0.5000 - acc: 0.2500'
            '\n10/10 [==========] - 2s 200ms/step - loss: 0.5000 - acc: 0.6000\n')


def test_verbose_1_pads_a_shorter_line_with_spaces(clock, pipe):
    with pipe:
        bar = Progbar(target=4, width=4, stateful_metrics=['m'])
        clock.t = 1000.125
        bar.update(2, [('m', 123456789.5)])
        clock.t = 1000.375
        bar.update(4, [('m', 0.5)])
        first = '2/4 [=>..] - ETA: 0s - m: 123456789.5000'           # 40 characters
        last = '4/4 [====] - 0s 94ms/step - m: 0.5000'               # 37: 0.375 s / 4 = 93.75 ms
        assert len(first) == 40 and len(last) == 37
        assert pipe.text == '\n' + first + '\n' + last + '   \n'


def test_verbose_1_long_eta_formats(clock, pipe):
    with pipe:
        bar = Progbar(target=1000, width=10)
        clock.t = 1010.0
        bar.update(1)       # 10 s per step, 999 steps left: 9990 s = 2 h 46 min 30 s
        clock.t = 1010.5
        bar.update(100)     # 10.5 s / 100 = 0.105 s per step * 900 = 94.5 s = 1 min 34 s
        assert pipe.text == ('\n   1/1000 [..........] - ETA: 2:46:30'
                             # 3 characters shorter than the line before: padded
                             '\n 100/1000 [>.........] - ETA: 1:34   ')


def test_verbose_1_unknown_target_always_draws(clock, pipe):
    with pipe:
        bar = Progbar(target=None)
        clock.t = 1001.0
        bar.update(5, [('loss', 0.5)])
        clock.t = 1001.01   # under the interval, but the target is unknown: drawn anyway
        bar.update(8, [('loss', 1.0)])
        # loss: (0.5*5 + 1.0*3) / 8 = 0.6875;  per step 1.01 s / 8 = 126.25 ms
        assert pipe.text == ('\n      5/Unknown - 1s 200ms/step - loss: 0.5000'
                             '\n      8/Unknown - 1s 126ms/step - loss: 0.6875')


# -- dynamic display ---------------------------------------------------------

def test_verbose_1_tty_redraws_in_place(clock, terminal):
    with terminal:
        bar = Progbar(target=10, width=10)
        clock.t = 1000.2
        bar.update(4, [('loss', 0.5)])
        clock.t = 1002.0
        bar.update(10, [('loss', 1.0)])
        first = ' 4/10 [===>......] - ETA: 0s - loss: 0.5000'
        # loss: (0.5*4 + 1.0*6) / 10 = 0.8
        last = '10/10 [==========] - 2s 200ms/step - loss: 0.8000'
        assert terminal.text == '\r' + first + '\b' * len(first) + '\r' + last + '\n'


def test_jupyter_counts_as_dynamic(clock, pipe, monkeypatch):
    with pipe:
        monkeypatch.setitem(sys.modules, 'ipykernel', object())
        bar = Progbar(target=2, width=2)
        clock.t = 1001.0
        bar.update(2)
        assert pipe.text == '\r2/2 [==] - 1s 500ms/step\n'


# -- verbose=2 and 0 ---------------------------------------------------------

def test_verbose_2_prints_one_line_at_the_end(clock, pipe):
    with pipe:
        bar = Progbar(target=10, verbose=2)
        clock.t = 1000.2
        bar.update(4, [('loss', 0.5), ('acc', 0.25)])
        clock.t = 1001.0
        bar.update(8, [('loss', 0.25), ('acc', 0.75)])
        assert pipe.text == ''
        clock.t = 1002.0
        bar.update(10, [('loss', 1.0), ('acc', 1.0)])
        assert pipe.text == ' - 2s - loss: 0.5000 - acc: 0.6000\n'


def test_verbose_2_negative_and_tiny_values(clock, pipe):
    with pipe:
        bar = Progbar(target=1, verbose=2)
        clock.t = 1000.0
        bar.update(1, [('loss', -0.75), ('tiny', 2e-4)])
        assert pipe.text == ' - 0s - loss: -0.7500 - tiny: 2.0000e-04\n'


def test_verbose_2_unknown_target_prints_every_update(clock, pipe):
    with pipe:
        bar = Progbar(target=None, verbose=2)
        clock.t = 1003.0
        bar.update(2, [('loss', 1.0)])
        bar.update(4, [('loss', 0.0)])
        assert pipe.text == ' - 3s - loss: 1.0000\n - 3s - loss: 0.5000\n'


def test_verbose_0_prints_nothing(clock, pipe):
    with pipe:
        bar = Progbar(target=3, verbose=0)
        for i in range(1, 4):
            clock.t += 1
            bar.update(i, [('loss', 1.0)])
        assert pipe.text == ''


# -- add, stateful metrics ---------------------------------------------------

def test_add_advances_from_the_last_position(clock, pipe):
    with pipe:
        bar = Progbar(target=6, width=6, verbose=2)
        bar.add(2, [('loss', 3.0)])
        bar.add(4, [('loss', 0.0)])
        # loss: (3*2 + 0*4) / 6 = 1.0
        assert pipe.text == ' - 0s - loss: 1.0000\n'


def test_stateful_metric_shows_the_latest_value(clock, pipe):
    with pipe:
        bar = Progbar(target=4, verbose=2, stateful_metrics={'auc'})
        bar.update(2, [('loss', 1.0), ('auc', 0.9)])
        bar.update(4, [('loss', 0.5), ('auc', 0.7)])
        assert pipe.text == ' - 0s - loss: 0.7500 - auc: 0.7000\n'


@given(st.lists(st.tuples(st.integers(1, 50), st.floats(0.01, 100.0)), min_size=1, max_size=12))
def test_displayed_average_is_the_step_weighted_mean(batches):
    target = sum(size for size, _ in batches)
    with FakeStdout(tty=False) as stream:
        bar = Progbar(target=target, verbose=2)
        for size, loss in batches:
            bar.add(size, [('loss', loss)])
    expected = 0.0
    for size, loss in batches:
        expected += size * loss
    expected /= target
    shown = float(stream.text.split('loss: ')[1])
    assert stream.text.endswith('\n')
    assert abs(shown - expected) <= 5e-5 + 1e-9 * abs(expected)


@pytest.mark.parametrize('kwargs', [
    dict(target=-1), dict(target=2.5), dict(target='10'), dict(target=True),
    dict(target=5, width=0), dict(target=5, verbose=3), dict(target=5, interval=-1),
])
def test_bad_arguments_are_rejected(kwargs):
    with pytest.raises(ValueError, match='Progbar'):
        Progbar(**kwargs)
