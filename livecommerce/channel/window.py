"""One write window of a room: the events the hub held for ``channel.write_delay_ms``,
and what each local session gets of them.

Sessions are grouped by what they receive, so each group's frames are joined
and encoded once (per wire format) however many sockets it holds:

* viewers: the window minus the viewer chat lines the sampler left out;
* privileged sessions (the anchor, staff): every broadcast;
* the users a routed event names (``to``), and the authors of lines left
  out: their own list, built once per user.

Each session sees its frames in bus order. A routed event that closes its
sessions ends their list: nothing after it in the window is written to them.
"""

from __future__ import annotations

from dataclasses import dataclass

from livecommerce.bus import Delivery
from livecommerce.channel.sampling import ChatSampler, is_viewer_chat
from livecommerce.channel.session import ChannelSession
from livecommerce.channel.wire import FrameBatch, OutgoingFrame


@dataclass(frozen=True, slots=True)
class Entry:
    """A held event: its frame, the delivery when it is routed, the author of a
    viewer chat line the sampler may leave out."""

    frame: OutgoingFrame
    delivery: Delivery | None = None
    author: str | None = None
    dropped: bool = False
    later: OutgoingFrame | None = None  # the routed timer's frame, built once


def held(frame: OutgoingFrame, delivery: Delivery | None = None) -> Entry:
    """An entry for ``frame`` (``delivery`` when the event is routed)."""
    author = None
    if delivery is None and is_viewer_chat(frame.message):
        user = frame.message.get("user")
        author = user if isinstance(user, str) else ""
    later = None
    timer = delivery.timer if delivery is not None else None
    if timer is not None and timer.then is not None and not timer.cancels:
        later = OutgoingFrame(dict(timer.then))
    return Entry(frame, delivery, author, later=later)


def sample(entries: list[Entry], sampler: ChatSampler | None) -> list[Entry]:
    """The entries with the viewer chat lines ``sampler`` leaves out marked ``dropped``."""
    if sampler is None:
        return entries
    choices = iter(sampler.choose(sum(1 for entry in entries if entry.author is not None)))
    return [
        Entry(entry.frame, None, entry.author, dropped=not next(choices))
        if entry.author is not None
        else entry
        for entry in entries
    ]


def _reaches(entry: Entry, user: str | None, privileged: bool) -> bool:
    delivery = entry.delivery
    if delivery is not None:
        return (delivery.to is None or delivery.to == user) and (privileged or not delivery.staff)
    return not entry.dropped or privileged or (user is not None and entry.author == user)


class WindowWriter:
    """Writes one window's entries to a room's sessions (see the module docstring)."""

    def __init__(self, entries: list[Entry]) -> None:
        self._entries = entries
        self._special: set[str] = set()
        self._everyone_routed = False
        for entry in entries:
            delivery = entry.delivery
            if delivery is not None:
                if delivery.to is None:
                    self._everyone_routed = True
                else:
                    self._special.add(delivery.to)
            elif entry.dropped and entry.author:
                self._special.add(entry.author)
        self._batches: dict[tuple[str | None, bool], tuple[FrameBatch, list[Entry]]] = {}

    @property
    def named_users(self) -> set[str]:
        """Users a routed event names, and authors of lines left out."""
        return self._special

    def reaches_viewers(self) -> bool:
        """Whether a viewer this window names nobody (not privileged) gets anything of it;
        when not, only privileged sessions and :attr:`named_users`' need writing."""
        batch, actions = self._planned(None, privileged=False)
        return bool(batch.frames or actions)

    def write(self, session: ChannelSession) -> None:
        user = session.user if session.user in self._special else None
        _deliver(session, *self._planned(user, session.privileged))

    def planned(self, user: str | None, privileged: bool) -> tuple[FrameBatch, list[Entry]]:
        """What a session of ``user`` gets of this window: its frames, and the entries
        that act on it (timers, a close that ends the list)."""
        return self._planned(user if user in self._special else None, privileged)

    def _planned(self, user: str | None, privileged: bool) -> tuple[FrameBatch, list[Entry]]:
        key = (user, privileged)
        planned = self._batches.get(key)
        if planned is None:
            planned = self._batches[key] = self._plan(user, privileged)
        return planned

    def _plan(self, user: str | None, privileged: bool) -> tuple[FrameBatch, list[Entry]]:
        frames: list[OutgoingFrame] = []
        actions: list[Entry] = []
        for entry in self._entries:
            if not _reaches(entry, user, privileged):
                continue
            frames.append(entry.frame)
            delivery = entry.delivery
            if delivery is not None and (delivery.timer or delivery.close_code is not None):
                actions.append(entry)
                if delivery.close_code is not None:
                    break
        return FrameBatch(frames), actions


class WindowRun:
    """Consecutive windows written to a session as one write: each window's frames for
    it in order, none after a routed close."""

    def __init__(self, windows: list[WindowWriter]) -> None:
        self._windows = windows
        self._special: set[str] = set().union(*(window.named_users for window in windows))
        self._batches: dict[tuple[str | None, bool], tuple[FrameBatch, list[Entry]]] = {}

    def write(self, session: ChannelSession) -> None:
        user = session.user if session.user in self._special else None
        key = (user, session.privileged)
        planned = self._batches.get(key)
        if planned is None:
            planned = self._batches[key] = self._plan(user, session.privileged)
        _deliver(session, *planned)

    def _plan(self, user: str | None, privileged: bool) -> tuple[FrameBatch, list[Entry]]:
        frames: list[OutgoingFrame] = []
        actions: list[Entry] = []
        for window in self._windows:
            batch, acts = window.planned(user, privileged)
            frames.extend(batch.frames)
            actions.extend(acts)
            if acts and acts[-1].delivery is not None and acts[-1].delivery.close_code is not None:
                break
        return FrameBatch(frames), actions


def _deliver(session: ChannelSession, batch: FrameBatch, actions: list[Entry]) -> None:
    if len(batch.frames) == 1:
        session.deliver(batch.frames[0])
    elif batch.frames:
        session.deliver_batch(batch)
    for entry in actions:
        _act(session, entry)


def _act(session: ChannelSession, entry: Entry) -> None:
    delivery = entry.delivery
    assert delivery is not None
    timer = delivery.timer
    if timer is not None:
        if entry.later is None:
            session.cancel(timer.name)
        else:
            session.schedule(timer.name, timer.at_ms, entry.later)
    if delivery.close_code is not None:
        session.close(delivery.close_code, delivery.type)
