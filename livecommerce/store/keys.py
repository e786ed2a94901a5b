"""The key schema: every store key is built here and nowhere else.

All keys start with the configured prefix (``lc:`` in production; tests use
``lc:t-<id>:`` so each test has its own key space on one shared server).
Keys of one room share the hash tag ``{r:ROOM}``, so every Lua script that
touches a room's keys runs unchanged on a cluster (one slot per room).

| key                                  | type        | contents                                    |
|--------------------------------------|-------------|---------------------------------------------|
| ``P{r:ROOM}:room``                   | hash        | room fields: id, title, description,        |
|                                      |             | anchor, cover_url, status, created_at,      |
|                                      |             | started_at, ended_at (ms); while live:      |
|                                      |             | live_session, origin (node URL), live_until |
|                                      |             | (ms, pushed by the origin's beat)           |
| ``Prooms``                           | zset        | every room id, scored by created_at (ms)    |
| ``Prooms:live``                      | zset        | ids of live rooms, scored by started_at     |
|                                      |             | (ms)                                        |
| ``P{r:ROOM}:chat``                   | stream      | chat history: user, role, text; entry id =  |
|                                      |             | the message id                              |
| ``P{r:ROOM}:chat:bucket``            | hash        | per-user chat token bucket: user →          |
|                                      |             | "tokens:ms"                                 |
| ``P{r:ROOM}:chat:last``              | hash        | per-user time of the last message (slow     |
|                                      |             | mode)                                       |
| ``P{r:ROOM}:counters``               | hash        | chat_messages, likes, orders, paid_orders,  |
|                                      |             | gmv_cents:CURRENCY, peak_viewers            |
| ``P{r:ROOM}:engagement``             | hash        | "KIND:SLOT" → count (KIND: chat, likes or   |
|                                      |             | orders; SLOT = ms // slot length)           |
| ``P{r:ROOM}:likes:USER``             | hash        | a user's like budget: tokens, at (ms); and  |
|                                      |             | its likes counted for discovery: counted,   |
|                                      |             | since (ms, start of its counting window)    |
| ``P{r:ROOM}:presence``               | hash        | node id → "count:expires_ms"                |
| ``P{r:ROOM}:mod``                    | hash        | muted_until (ms, -1 = until unmuted),       |
|                                      |             | slow_mode_s                                 |
| ``P{r:ROOM}:mutes``                  | hash        | user → muted until (ms)                     |
| ``P{r:ROOM}:bans``                   | hash        | user → banned at (ms)                       |
| ``P{r:ROOM}:audit``                  | stream      | moderation log: actor, actor_role, action,  |
|                                      |             | target, reason, duration_s                  |
| ``P{r:ROOM}:products``               | hash        | product id → product JSON                   |
| ``P{r:ROOM}:pinned``                 | string      | id of the pinned product                    |
| ``P{r:ROOM}:sale:SALE``              | hash        | a flash sale: terms, stock, reserved, sold, |
|                                      |             | state, stopped_at                           |
| ``P{r:ROOM}:sales``                  | zset        | the room's sale ids by creation time (ms)   |
| ``P{r:ROOM}:sale:SALE:buyers``       | hash        | user → units held (reserved or paid)        |
| ``P{r:ROOM}:sale:SALE:idempotency``  | hash        | the buy answer given (JSON) by              |
|                                      |             | "BYTES:USER|KEY" (BYTES: the user id's      |
|                                      |             | length in UTF-8 bytes, so no user and key   |
|                                      |             | spell another pair's field;                 |
|                                      |             | ``idempotency_field``): one sale, one user, |
|                                      |             | one key → one answer                        |
| ``P{r:ROOM}:order:ORDER``            | hash        | an order: sale, user, qty, amounts, status, |
|                                      |             | created_at, expires_at, paid_at, …          |
| ``P{r:ROOM}:reservations``           | zset        | reserved order ids by expiry (ms)           |
| ``P{r:ROOM}:buyers``                 | set         | users who placed an order in the room       |
| ``P{r:ROOM}:outbox``                 | stream      | order events for the hooks: id, type,       |
|                                      |             | timestamp (ms), data (JSON); one consumer   |
|                                      |             | group per webhook endpoint                  |
| ``Poutboxes``                        | set         | rooms that have an outbox (for the          |
|                                      |             | dispatcher)                                 |
| ``Preserving``                       | set         | rooms that may hold open reservations       |
| ``Psales:clock``                     | zset        | "ROOM SALE" by the time its state changes   |
|                                      |             | next                                        |
| ``Phooks:dead``                      | hash        | dead-letter id → JSON (event, endpoint,     |
|                                      |             | error, dead_at_ms)                          |
| ``Phooks:attempts``                  | hash        | "endpoint|ROOM|entry" → failed attempts     |
| ``Pdab:YYYY-MM-DD``                  | HyperLogLog | users who placed an order that day (UTC)    |
| ``Pnodes``                           | hash        | node id → JSON {url, started_at, seen_at,   |
|                                      |             | expires_at} (ms); lapsed entries are        |
|                                      |             | ignored                                     |
| ``P{r:ROOM}:replay:REPLAY``          | hash        | a recording: id, room, anchor, node_url,    |
|                                      |             | started_at, ended_at (ms), duration_s,      |
|                                      |             | video_codec, format, status, stopped        |
| ``P{r:ROOM}:replays``                | zset        | the room's replay ids by started_at (ms)    |
| ``P{r:ROOM}:replay:REPLAY:timeline`` | stream      | timeline entries: e (JSON, ``at`` in ms),   |
|                                      |             | as they happened while recording            |
| ``P{r:ROOM}:hls``                    | string      | id of the replay recording the live room    |
|                                      |             | now (its live HLS)                          |
| ``Preplays:recent``                  | zset        | "ROOM REPLAY" of finished replays by        |
|                                      |             | ended_at (ms), for the home page            |

How long each family lives (its bound): ``TTL`` (the key expires), ``MAXLEN`` (a
capped stream), ``trim:`` (a script or job removes old members; the rule says which) or
``room:`` (lives as long as its room, whose own retention is not decided yet).

| family                               | retention                                                 |
|--------------------------------------|-----------------------------------------------------------|
| ``P{r:ROOM}:room``                   | room: as long as the room                                 |
| ``Prooms``                           | room: one member per room                                 |
| ``Prooms:live``                      | trim: removed when the room goes offline or its origin's  |
|                                      | beat lapses                                               |
| ``P{r:ROOM}:chat``                   | MAXLEN ~ ``channel.history_size``                         |
| ``P{r:ROOM}:chat:bucket``            | TTL 1 h after the last message                            |
| ``P{r:ROOM}:chat:last``              | TTL 1 h after the last message                            |
| ``P{r:ROOM}:counters``               | room: as long as the room (fixed fields)                  |
| ``P{r:ROOM}:engagement``             | TTL the discovery window; slots past it removed when a    |
|                                      | new slot starts                                           |
| ``P{r:ROOM}:likes:USER``             | TTL the longer of a full refill and the window            |
| ``P{r:ROOM}:presence``               | trim: stale fields removed when counted (one field per    |
|                                      | node)                                                     |
| ``P{r:ROOM}:mod``                    | room: as long as the room (two fields)                    |
| ``P{r:ROOM}:mutes``                  | room: as long as the room; unmute removes a field         |
| ``P{r:ROOM}:bans``                   | room: as long as the room; unban removes a field          |
| ``P{r:ROOM}:audit``                  | MAXLEN ~ ``moderation.audit_log_size``                    |
| ``P{r:ROOM}:products``               | room: as long as the room                                 |
| ``P{r:ROOM}:pinned``                 | room: as long as the room                                 |
| ``P{r:ROOM}:sale:SALE``              | room: as long as the room                                 |
| ``P{r:ROOM}:sales``                  | room: as long as the room                                 |
| ``P{r:ROOM}:sale:SALE:buyers``       | room: as long as the room; cancel and expiry remove a     |
|                                      | field                                                     |
| ``P{r:ROOM}:sale:SALE:idempotency``  | TTL 1 day after the sale's last buy                       |
| ``P{r:ROOM}:order:ORDER``            | TTL once final: ``commerce.order_retention_days`` after   |
|                                      | it is paid, cancelled or expired (set by                  |
|                                      | ``orders_settle.lua``); none while reserved (the sweeper  |
|                                      | settles it)                                               |
| ``P{r:ROOM}:reservations``           | trim: settling an order removes it; gone when empty       |
| ``P{r:ROOM}:buyers``                 | room: as long as the room                                 |
| ``P{r:ROOM}:outbox``                 | trim: ``XTRIM MINID`` of entries every endpoint's group   |
|                                      | acknowledged and older than ``hooks.retention_days`` (the |
|                                      | dispatcher, every ``hooks.trim_interval_s``)              |
| ``Poutboxes``                        | room: one member per room                                 |
| ``Preserving``                       | room: one member per room                                 |
| ``Psales:clock``                     | trim: a sale leaves it when it ends                       |
| ``Phooks:dead``                      | trim: letters older than                                  |
|                                      | ``hooks.dead_letter_retention_days`` removed (the         |
|                                      | dispatcher, every ``hooks.trim_interval_s``)              |
| ``Phooks:attempts``                  | trim: a field goes when its entry is acknowledged or      |
|                                      | dead-lettered, or its endpoint is no longer configured    |
|                                      | (the dispatcher, every ``hooks.trim_interval_s``)         |
| ``Pdab:YYYY-MM-DD``                  | TTL 400 days after its last new buyer                     |
| ``Pnodes``                           | trim: lapsed entries pruned long after they lapse         |
| ``P{r:ROOM}:replay:REPLAY``          | TTL ``recording.keep_days`` after it starts, renewed when |
|                                      | it ends                                                   |
| ``P{r:ROOM}:replays``                | TTL ``recording.keep_days`` after the last replay; older  |
|                                      | members trimmed when a replay is added                    |
| ``P{r:ROOM}:replay:REPLAY:timeline`` | TTL ``recording.keep_days``; MAXLEN ~ 10,000 (chat is     |
|                                      | capped at ``recording.timeline_chat_max`` before)         |
| ``P{r:ROOM}:hls``                    | TTL 1 h, renewed by each segment; removed when the        |
|                                      | recording ends                                            |
| ``Preplays:recent``                  | trim: members older than ``recording.keep_days`` and all  |
|                                      | but the newest 1,000 removed when a replay ends           |

Shard pub/sub channels (not keys, same naming and hash tag):

| channel                     | carries                                               |
|-----------------------------|-------------------------------------------------------|
| ``P{r:ROOM}:events``        | the room's events, msgpack maps with a ``type``       |
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Keys:
    """Builds store keys under one prefix."""

    prefix: str = "lc:"

    @staticmethod
    def room_tag(room_id: str) -> str:
        """The hash tag all of a room's keys share."""
        return "{r:" + room_id + "}"

    def room(self, room_id: str) -> str:
        """Hash of the room's fields."""
        return f"{self.prefix}{self.room_tag(room_id)}:room"

    def rooms_index(self) -> str:
        """Sorted set of every room id by creation time (ms)."""
        return f"{self.prefix}rooms"

    def rooms_live(self) -> str:
        """Sorted set of live room ids by the time they went live (ms)."""
        return f"{self.prefix}rooms:live"

    def room_events(self, room_id: str) -> str:
        """Shard pub/sub channel of the room's events."""
        return f"{self.prefix}{self.room_tag(room_id)}:events"

    def chat_history(self, room_id: str) -> str:
        """Stream of the room's chat messages (entry id = message id)."""
        return f"{self.prefix}{self.room_tag(room_id)}:chat"

    def chat_buckets(self, room_id: str) -> str:
        """Hash of per-user chat rate-limit buckets."""
        return f"{self.prefix}{self.room_tag(room_id)}:chat:bucket"

    def chat_last_post(self, room_id: str) -> str:
        """Hash of per-user last message times, for slow mode."""
        return f"{self.prefix}{self.room_tag(room_id)}:chat:last"

    def room_counters(self, room_id: str) -> str:
        """Hash of the room's counters (chat messages, likes, peak viewers)."""
        return f"{self.prefix}{self.room_tag(room_id)}:counters"

    def room_engagement(self, room_id: str) -> str:
        """Hash of recent chat, likes and orders per time slot, for discovery ranking."""
        return f"{self.prefix}{self.room_tag(room_id)}:engagement"

    def user_likes(self, room_id: str, user: str) -> str:
        """Hash of one user's like budget and discovery count in the room."""
        return f"{self.prefix}{self.room_tag(room_id)}:likes:{user}"

    def room_presence(self, room_id: str) -> str:
        """Hash of viewer counts per node, each with its expiry."""
        return f"{self.prefix}{self.room_tag(room_id)}:presence"

    def room_moderation(self, room_id: str) -> str:
        """Hash of room-wide moderation state (mute, slow mode)."""
        return f"{self.prefix}{self.room_tag(room_id)}:mod"

    def room_mutes(self, room_id: str) -> str:
        """Hash of muted users and when their mute ends."""
        return f"{self.prefix}{self.room_tag(room_id)}:mutes"

    def room_bans(self, room_id: str) -> str:
        """Hash of banned users."""
        return f"{self.prefix}{self.room_tag(room_id)}:bans"

    def moderation_log(self, room_id: str) -> str:
        """Stream of the room's moderation actions (the audit log)."""
        return f"{self.prefix}{self.room_tag(room_id)}:audit"

    def products(self, room_id: str) -> str:
        """Hash of the room's products (id → JSON)."""
        return f"{self.prefix}{self.room_tag(room_id)}:products"

    def pinned_product(self, room_id: str) -> str:
        """Id of the room's pinned product."""
        return f"{self.prefix}{self.room_tag(room_id)}:pinned"

    def sale(self, room_id: str, sale_id: str) -> str:
        """Hash of one flash sale."""
        return f"{self.prefix}{self.room_tag(room_id)}:sale:{sale_id}"

    def sales(self, room_id: str) -> str:
        """Sorted set of the room's sale ids by creation time."""
        return f"{self.prefix}{self.room_tag(room_id)}:sales"

    def sale_buyers(self, room_id: str, sale_id: str) -> str:
        """Hash of units each user holds in one sale."""
        return f"{self.prefix}{self.room_tag(room_id)}:sale:{sale_id}:buyers"

    def order(self, room_id: str, order_id: str) -> str:
        """Hash of one order."""
        return f"{self.prefix}{self.room_tag(room_id)}:order:{order_id}"

    def sale_idempotency(self, room_id: str, sale_id: str) -> str:
        """Hash of one sale's buy answers by :meth:`idempotency_field`. Scoped by sale, so
        a key reused on another sale is a new buy there, not the first sale's answer."""
        return f"{self.prefix}{self.room_tag(room_id)}:sale:{sale_id}:idempotency"

    @staticmethod
    def idempotency_field(user: str, key: str) -> str:
        """The field of a buyer's key in :meth:`sale_idempotency`: ``BYTES:USER|KEY``, the
        user's length in UTF-8 bytes first, so that no user and key pair can spell another
        pair's field (``a|b`` + ``c`` and ``a`` + ``b|c`` differ)."""
        return f"{len(user.encode())}:{user}|{key}"

    def reservations(self, room_id: str) -> str:
        """Sorted set of reserved order ids by expiry."""
        return f"{self.prefix}{self.room_tag(room_id)}:reservations"

    def room_buyers(self, room_id: str) -> str:
        """Set of users who placed an order in the room."""
        return f"{self.prefix}{self.room_tag(room_id)}:buyers"

    def outbox(self, room_id: str) -> str:
        """Stream of the room's order events, read by the hook dispatcher."""
        return f"{self.prefix}{self.room_tag(room_id)}:outbox"

    def outboxes(self) -> str:
        """Set of rooms with an outbox stream."""
        return f"{self.prefix}outboxes"

    def reserving_rooms(self) -> str:
        """Set of rooms the expiry sweeper looks at."""
        return f"{self.prefix}reserving"

    def sales_clock(self) -> str:
        """Sorted set of "ROOM SALE" by the time the sale's state changes next."""
        return f"{self.prefix}sales:clock"

    def dead_letters(self) -> str:
        """Hash of webhook deliveries that gave up."""
        return f"{self.prefix}hooks:dead"

    def hook_attempts(self) -> str:
        """Hash of failed delivery attempts per endpoint and outbox entry."""
        return f"{self.prefix}hooks:attempts"

    def daily_buyers(self, day: str) -> str:
        """HyperLogLog of users who placed an order on ``day`` (YYYY-MM-DD, UTC)."""
        return f"{self.prefix}dab:{day}"

    def nodes(self) -> str:
        """Hash of the running nodes: node id → JSON entry with its own expiry."""
        return f"{self.prefix}nodes"

    def replay(self, room_id: str, replay_id: str) -> str:
        """Hash of one recording of the room (a replay)."""
        return f"{self.prefix}{self.room_tag(room_id)}:replay:{replay_id}"

    def replays(self, room_id: str) -> str:
        """Sorted set of the room's replay ids by start time (ms)."""
        return f"{self.prefix}{self.room_tag(room_id)}:replays"

    def replay_timeline(self, room_id: str, replay_id: str) -> str:
        """Stream of a replay's timeline entries (JSON) in the order they happened."""
        return f"{self.prefix}{self.room_tag(room_id)}:replay:{replay_id}:timeline"

    def live_hls(self, room_id: str) -> str:
        """Id of the replay whose segments are the live room's HLS now."""
        return f"{self.prefix}{self.room_tag(room_id)}:hls"

    def recent_replays(self) -> str:
        """Sorted set of "ROOM REPLAY" of finished replays by end time (ms)."""
        return f"{self.prefix}replays:recent"
