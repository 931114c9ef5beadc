"""Errors never reach the screen as tracebacks: a handler that fails logs the traceback
(to HOME/claude-inspect.log while the app runs) and shows a one-line notification instead.

Textual stops a widget's message loop when one of its handlers raises, so the handlers
that turn data into widgets are wrapped with `guarded`: the widget keeps working.
"""

from __future__ import annotations

import functools
import inspect
import logging
from typing import Any, Callable

log = logging.getLogger("inspector.tui")


def report(node: Any, error: BaseException, where: str = "") -> None:
    """Log `error` and show it as a notification from `node` (a widget, screen or app)."""
    log.error("error%s", f" in {where}" if where else "", exc_info=error)
    app = getattr(node, "app", node)
    if getattr(app, "strict", False):
        raise error
    try:
        app.notify(f"{type(error).__name__}: {error}", title="Something went wrong",
                   severity="error", timeout=10)
    except Exception:  # the app is going away: the log has it
        pass


def guarded(method: Callable) -> Callable:
    """Wrap a handler (sync or async) so an exception becomes a notification."""
    if inspect.iscoroutinefunction(method):
        @functools.wraps(method)
        async def async_wrapper(self, *args: Any, **kwargs: Any) -> Any:
            try:
                return await method(self, *args, **kwargs)
            except Exception as e:
                report(self, e, method.__qualname__)
        return async_wrapper

    @functools.wraps(method)
    def wrapper(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except Exception as e:
            report(self, e, method.__qualname__)
    return wrapper
