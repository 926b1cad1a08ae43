"""Installing the fault guard and turning its absorbed faults into exceptions.

The C++ SIGBUS handler absorbs faults on pages that vanished from a mapped file
(they become zero pages) and then calls ``PyErr_SetInterruptEx(SIGBUS)``, which
is async-signal-safe. That runs :func:`_on_truncation` in the main thread at
the interpreter's next check (right after the call that faulted returns), and it
raises :class:`FileTruncatedError`.

For ``PyErr_SetInterruptEx`` to reach a Python function, Python must think it
handles SIGBUS, which takes ``signal.signal``. But ``signal.signal`` also puts
Python's own C handler in place, which only sets a flag and returns: for a real
fault that would repeat forever. So the C++ handler goes back on top right after,
still passing foreign faults on to what was there before (faulthandler, or the
default that kills). ``faulthandler.enable``/``disable`` are wrapped for the same
reason: faulthandler must go *under* the guard, not over it, or it would report
our absorbed faults as fatal.
"""

from __future__ import annotations

import errno
import faulthandler
import functools
import signal
import threading
from typing import Any

from ._core import (
    FileTruncatedError,
    _install_fault_guard,
    _reinstall_fault_guard,
    _take_truncation_events,
    _uninstall_fault_guard,
)


def _on_truncation(signum: int, frame: Any) -> None:
    """Python's SIGBUS handler: raise FileTruncatedError for the faults the guard absorbed."""
    events = _take_truncation_events()
    if not events:
        return  # already reported by an earlier call
    path, offset = events[0]
    more = f" (and {len(events) - 1} more page(s))" if len(events) > 1 else ""
    where = f"the page at byte {offset:,}{more}" if offset is not None else "pages"
    raise FileTruncatedError(
        errno.EFAULT,
        f"the file shrank under a live mapping: {where} vanished and now read(s) as zeros",
        path,
    )


def _keep_under_the_guard(function: Any) -> Any:
    """Wrap a faulthandler function so what it installs sits under the guard, not over it."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _uninstall_fault_guard()
        try:
            return function(*args, **kwargs)
        finally:
            _reinstall_fault_guard(chain_to_current=True)

    wrapper.__wrapped_by_mmap_array__ = True  # type: ignore[attr-defined]
    return wrapper


def install() -> None:
    """Install the guard, its Python-side handler and the faulthandler wrappers (idempotent)."""
    _install_fault_guard()
    # signal.signal works only in the main thread; imported elsewhere, poisoned handles still
    # raise on their next call, just not the statement that touched the vanished page.
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGBUS) is not _on_truncation:
        signal.signal(signal.SIGBUS, _on_truncation)
        _reinstall_fault_guard(chain_to_current=False)
    for name in ("enable", "disable"):
        function = getattr(faulthandler, name)
        if not getattr(function, "__wrapped_by_mmap_array__", False):
            setattr(faulthandler, name, _keep_under_the_guard(function))
