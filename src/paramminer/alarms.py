"""One wall-clock alarm for a block of code in the main thread (SIGALRM)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import NoReturn


@contextmanager
def alarm(seconds: float | None, expire: Callable[[], NoReturn]) -> Iterator[None]:
    """Call `expire` (which raises) in the main thread once `seconds` have passed inside the
    block. A no-op when `seconds` is None or 0, outside the main thread (signals cannot be
    used there), or where the platform has no SIGALRM."""
    if (not seconds or not hasattr(signal, "SIGALRM")
            or threading.current_thread() is not threading.main_thread()):
        yield
        return

    def on_alarm(signum: int, frame: FrameType | None) -> None:
        expire()

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
