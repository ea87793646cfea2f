"""Progress: nothing while work is quick, a bar once it takes a second or two, never otherwise.

Time is a fake clock here: tests never time anything.
"""

from __future__ import annotations

import io

import pytest

from convalgebra import progress as progress_module
from convalgebra.progress import Plain, progress


class Clock:
    """A clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_quick_work_shows_nothing():
    clock, out = Clock(), io.StringIO()
    bar = Plain(1000, "sweep", delay=1.5, stream=out, clock=clock)
    for i in bar.wrap(range(1000)):
        clock.now = i * 0.001  # one second in all
    assert out.getvalue() == ""


def test_slow_work_shows_a_bar_after_the_delay_and_ends_the_line():
    clock, out = Clock(), io.StringIO()
    bar = Plain(10, "sweep", delay=1.5, stream=out, clock=clock, interval=0.2)
    seen = []
    for i in bar.wrap(range(10)):
        clock.now = 0.5 * (i + 1)
        seen.append(out.getvalue())
    text = out.getvalue()
    assert seen[1] == ""  # one second in: still quiet
    assert text.startswith("\rsweep:  30% (3/10)")  # drawn once 1.5 s have passed
    assert text.endswith("\rsweep: 100% (10/10)\n")
    assert text.count("\n") == 1


def test_redraws_are_rate_limited_but_the_last_is_always_drawn():
    clock, out = Clock(), io.StringIO()
    bar = Plain(100, "", delay=0, stream=out, clock=clock, interval=1.0)
    for i in bar.wrap(range(100)):
        clock.now = 2 + i * 0.05  # 20 per second
    lines = out.getvalue().split("\r")[1:]
    assert 4 <= len(lines) <= 7
    assert lines[-1] == "100% (100/100)\n"


def test_without_a_total_the_count_is_shown():
    clock, out = Clock(), io.StringIO()
    bar = Plain(None, "rows", delay=0, stream=out, clock=clock)
    for _ in bar.wrap(iter(range(3))):
        clock.now += 1
    assert out.getvalue() == "\rrows: 1\rrows: 2\rrows: 3\n"


def test_turned_off_it_is_the_items_untouched(capsys):
    items = iter([3, 1, 2])
    assert list(progress(items, show=False, delay=0)) == [3, 1, 2]
    assert capsys.readouterr() == ("", "")


def test_plain_fallback_without_tqdm(monkeypatch, capsys):
    monkeypatch.setattr(progress_module, "_tqdm", lambda: None)
    assert list(progress(range(4), description="grid", delay=0)) == [0, 1, 2, 3]
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.endswith("grid: 100% (4/4)\n")


def test_tqdm_when_installed_writes_to_stderr_only(capsys):
    pytest.importorskip("tqdm")
    assert list(progress(range(5), description="grid", delay=0)) == list(range(5))
    captured = capsys.readouterr()
    assert captured.out == "" and "grid" in captured.err and "5/5" in captured.err


def test_quick_work_with_tqdm_shows_nothing(capsys):
    pytest.importorskip("tqdm")
    assert sum(progress(range(100), description="grid", delay=60)) == 4950
    assert capsys.readouterr() == ("", "")


def test_a_large_sweep_goes_in_slices_through_progress(monkeypatch):
    np = pytest.importorskip("numpy")
    import convalgebra as ca
    from convalgebra import sweeps

    calls = []

    def recording(items, total=None, description="", show=None, delay=1.5):
        calls.append((len(items), description))
        yield from items

    monkeypatch.setattr(progress_module, "progress", recording)
    ratio = ca.explain("bottleneck").ratio.macs
    axes = dict(K=[1, 3, 5], M=np.arange(1, 101), N=[64, 128, 256], t=[2, 4])
    whole = sweeps.sweep(ratio, **axes)
    assert calls == []  # one slice: no bar
    monkeypatch.setattr(sweeps, "_CHUNK", 1000)
    sliced = sweeps.sweep(ratio, **axes)
    assert calls == [(3, "sweep")]  # 600 points per K, one K per slice
    for name in whole.names:
        assert sliced.columns[name].tolist() == whole.columns[name].tolist()
    for row in sliced.rows[::97]:
        exact = ratio.subs({ca.SYMBOLS[s]: row[s] for s in "KMNt"})
        assert row["value"] == pytest.approx(float(exact), rel=1e-12)


def test_every_sweep_column_is_full_length():
    pytest.importorskip("numpy")
    import convalgebra as ca

    s = ca.sweep("1/N", K=[1, 2], N=[3, 4, 5])  # K is swept but not in the expression
    assert s.to_dict() == {"K": [1, 1, 1, 2, 2, 2], "N": [3, 4, 5] * 2, "value": [1 / 3, 1 / 4, 1 / 5] * 2}
