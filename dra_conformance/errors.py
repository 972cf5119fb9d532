"""The one error type the CLI turns into a single line and a non-zero exit."""


class HarnessError(Exception):
    """A failure the user can act on; its message is one line, no traceback is shown."""


class WaitTimeout(HarnessError):
    """A polled condition did not hold in time; the message carries the last observed state."""
