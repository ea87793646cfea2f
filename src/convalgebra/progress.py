"""Progress for long work: shown only once the work has taken a second or two.

A sweep or a plot over a large grid wraps its chunks in :func:`progress`. Nothing is
shown while the work is quick; after ``delay`` seconds a bar appears on stderr (a
terminal, or a notebook cell's stderr stream) and is left complete at the end. With
``tqdm`` installed (the ``notebook`` extra) the bar is tqdm's: a widget in a notebook
that has ipywidgets, text otherwise. Without it, a plain line is redrawn in place.
``show=False`` turns it off.

>>> list(progress(range(3), description="quick"))  # fast work shows nothing
[0, 1, 2]

The plain bar, with a clock that says two seconds pass per step:

>>> import io
>>> ticks = iter(range(0, 100, 2))
>>> out = io.StringIO()
>>> for _ in Plain(3, "sweep", delay=1.5, stream=out, clock=lambda: next(ticks)).wrap(range(3)):
...     pass
>>> print(out.getvalue().replace("\\r", "\\n").strip())
sweep:  33% (1/3)
sweep:  66% (2/3)
sweep: 100% (3/3)
"""

from __future__ import annotations

import sys
import time
import warnings
from contextlib import AbstractContextManager
from typing import Any, Callable, Iterable, Iterator, Optional, TextIO, TypeVar

__all__ = ["progress", "Plain"]

T = TypeVar("T")

#: Seconds of work before any progress is shown.
DELAY = 1.5


def progress(items: Iterable[T], total: Optional[int] = None, description: str = "",
             show: Optional[bool] = None, delay: float = DELAY) -> Iterator[T]:
    """The items, with a progress bar once iterating them has taken ``delay`` seconds.

    ``show=None`` (the default) shows it when the work is slow; ``False`` never does.
    """
    if show is False:
        yield from items
        return
    if total is None:
        total = len(items) if hasattr(items, "__len__") else None  # type: ignore[arg-type]
    bar = _tqdm()
    if bar is None:
        yield from Plain(total, description, delay=delay).wrap(items)
        return
    with bar(items, total=total, desc=description or None, delay=delay, file=sys.stderr,
             dynamic_ncols=True) as wrapped:
        yield from wrapped


def _tqdm() -> Optional[Callable[..., AbstractContextManager[Iterable[Any]]]]:
    """tqdm's automatic choice (notebook widget or text), or None when tqdm is not installed."""
    try:
        with warnings.catch_warnings():  # tqdm warns when a notebook lacks ipywidgets, then uses text
            warnings.simplefilter("ignore")
            from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm


class Plain:
    """A one-line text bar on a stream, redrawn in place at most every ``interval`` seconds."""

    def __init__(self, total: Optional[int], description: str = "", delay: float = DELAY,
                 stream: Optional[TextIO] = None, clock: Callable[[], float] = time.monotonic,
                 interval: float = 0.2) -> None:
        self.total, self.description, self.delay, self.interval = total, description, delay, interval
        self.stream = stream if stream is not None else sys.stderr
        self.clock = clock
        self.start = clock()
        self.drawn: Optional[float] = None
        self.done = 0

    def wrap(self, items: Iterable[T]) -> Iterator[T]:
        """Yield the items, counting each one after the caller has handled it."""
        try:
            for item in items:
                yield item
                self.step()
        finally:
            self.close()

    def step(self, n: int = 1) -> None:
        """Count ``n`` more items done; draw when the work is slow and the last draw is old."""
        self.done += n
        now = self.clock()
        if now - self.start < self.delay:
            return
        if self.drawn is None or now - self.drawn >= self.interval or self.done == self.total:
            self.drawn = now
            self.stream.write("\r" + self.line())
            self.stream.flush()

    def line(self) -> str:
        """The bar's text: ``description: 45% (450/1000)``, or the count alone without a total."""
        head = f"{self.description}: " if self.description else ""
        if self.total:
            return f"{head}{100 * self.done // self.total:3d}% ({self.done}/{self.total})"
        return f"{head}{self.done}"

    def close(self) -> None:
        """End the line, if anything was drawn."""
        if self.drawn is not None:
            self.stream.write("\n")
            self.stream.flush()
