"""Console output: ``[tag] text`` lines, coloured on a terminal, plain otherwise."""

from __future__ import annotations

from typing import TextIO

RESET = "\033[0m"
COLOURS = {
    "status": "\033[1;36m",  # bold cyan
    "chat": "\033[32m",
    "order": "\033[1;33m",
    "sale": "\033[33m",
    "pin": "\033[35m",
    "error": "\033[1;31m",
    "ok": "\033[1;32m",
    "channel": "\033[2m",
}


class Printer:
    """Writes whole lines and flushes each, so a reader of a pipe sees them at once."""

    def __init__(self, stream: TextIO, colour: bool) -> None:
        self._stream = stream
        self._colour = colour
        self._last_status: str | None = None

    @classmethod
    def for_stream(cls, stream: TextIO) -> Printer:
        """Colour only when the stream is a terminal (tests and pipes get plain text)."""
        return cls(stream, colour=stream.isatty())

    def line(self, tag: str, text: str) -> None:
        label = f"[{tag}]"
        if self._colour and tag in COLOURS:
            label = f"{COLOURS[tag]}{label}{RESET}"
        self._stream.write(f"{label} {text}\n")
        self._stream.flush()

    def block(self, text: str) -> None:
        self._stream.write(text.rstrip("\n") + "\n")
        self._stream.flush()

    def status(self, text: str) -> None:
        """Print the status line if it differs from the last one printed."""
        if text != self._last_status:
            self._last_status = text
            self.line("status", text)
