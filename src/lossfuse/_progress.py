"""The command line's progress bar: one line on stderr, redrawn in place."""

from __future__ import annotations

import sys
from typing import Optional, TextIO


class ProgressBar:
    """``[####......] TEXT`` on one line of `stream` (default: stderr), redrawn by `draw`
    and wiped by `close` (nothing is written where nothing was drawn; drawing after a close
    shows the bar again)."""

    def __init__(self, width: int, stream: Optional[TextIO] = None) -> None:
        self.width, self.stream = width, stream or sys.stderr
        self.drawn = 0                      # length of the longest line drawn

    def draw(self, fraction: float, text: str) -> None:
        """Fill `fraction` (clipped to [0, 1]) of the bar, `text` after it."""
        fill = int(self.width * min(max(fraction, 0.0), 1.0))
        line = f"[{'#' * fill}{'.' * (self.width - fill)}] {text}"
        self.stream.write("\r" + line)
        self.stream.flush()
        self.drawn = max(self.drawn, len(line))

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\r" + " " * self.drawn + "\r")
            self.stream.flush()
