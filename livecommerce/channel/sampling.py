"""Chat sampling: in a room whose viewers chat faster than anyone can read, each viewer
gets a fair sample of other viewers' lines instead of all of them.

The decision is made once per node per write window (:class:`ChatSampler` is
per room, owned by the hub), so it costs nothing per socket: every viewer
socket of the node gets the same sample, encoded once.

Guarantees, while sampling is on:

* only *viewer chat* can be left out: ``chat`` frames whose ``role`` is not
  one of :data:`STAFF_ROLES`. Every other frame type (commerce, moderation,
  likes, viewers, …) and chat of the anchor and staff reach every socket;
* a viewer's own lines always reach that viewer's sockets (the hub adds them
  back for their author);
* each window gets its share of the budget (``per_s / rate`` of its lines,
  where ``rate`` is the room's viewer chat rate over the last
  :data:`RATE_WINDOW_S` measured on this node; fractions carry over), and the
  lines it keeps are chosen uniformly at random among its lines, so the sample
  is fair (no position in a window is favoured, not the first lines of a
  second) and close to ``per_s`` lines a second; never more than ``per_s``
  lines are kept in any :data:`RATE_WINDOW_S` (a burst is cut, not passed on);
* sampling starts when the measured rate goes above ``threshold`` and stops
  when it falls below ``threshold * STOP_RATIO`` (no flapping at the edge).

The anchor's and staff sockets (``privileged`` sessions) always get every line.
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Callable, Mapping

# Chat of these roles is never sampled away.
STAFF_ROLES = frozenset({"anchor", "moderator", "admin"})
# Seconds over which the room's chat rate, and the per-viewer budget, are counted.
RATE_WINDOW_S = 1.0
# Sampling stops below this share of the threshold, so a rate hovering at the threshold
# does not switch it on and off every window.
STOP_RATIO = 0.8


def is_viewer_chat(message: Mapping[str, object]) -> bool:
    """A frame that sampling may leave out: chat posted by a non-staff role."""
    return message.get("type") == "chat" and message.get("role") not in STAFF_ROLES


class ChatSampler:
    """Decides, once per write window, which viewer chat lines every viewer gets."""

    def __init__(
        self,
        *,
        threshold: float,
        per_s: int,
        clock: Callable[[], float] = time.monotonic,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.threshold = threshold
        self.per_s = per_s
        self.active = False
        self._clock = clock
        self._rng = rng
        self._seen: deque[tuple[float, int]] = deque()  # (time, lines) per window
        self._seen_total = 0
        self._kept: deque[float] = deque()
        self._credit = rng()  # a random phase

    def rate(self) -> float:
        """Viewer chat lines per second over the last :data:`RATE_WINDOW_S`."""
        return self._seen_total / RATE_WINDOW_S

    def choose(self, lines: int) -> list[bool]:
        """Which of a window's ``lines`` viewer chat lines to keep (all while off).

        Also counts them toward the room's rate and switches sampling on or off;
        read :attr:`active` afterwards to know whether the state changed."""
        now = self._clock()
        self._forget(now)
        if lines:
            self._seen.append((now, lines))
            self._seen_total += lines
        rate = self.rate()
        if self.threshold > 0 and rate > self.threshold:
            self.active = True
        elif rate < self.threshold * STOP_RATIO or self.threshold <= 0:
            self.active = False
        if not self.active:
            return [True] * lines
        keep_share = min(1.0, self.per_s / rate) if rate > 0 else 1.0
        # The window's share of the budget, carried over in fractions between windows; then
        # which lines, chosen uniformly (no position in the window is favoured).
        self._credit += keep_share * lines
        wanted = int(self._credit)
        self._credit -= wanted
        count = max(0, min(wanted, lines, self.per_s - len(self._kept)))
        self._kept.extend([now] * count)
        return self._pick(count, lines)

    def _pick(self, count: int, lines: int) -> list[bool]:
        """``count`` of ``lines`` positions, each set of them equally likely."""
        chosen = []
        for left in range(lines, 0, -1):
            keep = count > 0 and self._rng() * left < count
            count -= keep
            chosen.append(keep)
        return chosen

    def _forget(self, now: float) -> None:
        horizon = now - RATE_WINDOW_S
        # A window exactly one RATE_WINDOW_S old no longer counts toward the rate.
        while self._seen and self._seen[0][0] <= horizon + 1e-6:
            self._seen_total -= self._seen.popleft()[1]
        while self._kept and self._kept[0] <= horizon:
            self._kept.popleft()
