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
| ``Prooms:ended``                     | zset        | ids of ended rooms, scored by ended_at (ms) |
|                                      |             | (for the retention sweep)                   |
| ``P{r:ROOM}:chat``                   | stream      | chat history: user, role, text; entry id =  |
|                                      |             | the message id                              |
| ``P{r:ROOM}:chat:bucket``            | hash        | per-user chat token bucket: user →          |
|                                      |             | "tokens:ms"                                 |
| ``P{r:ROOM}:chat:last``              | hash        | per-user time of the last message (slow     |
|                                      |             | mode)                                       |
| ``P{r:ROOM}:counters``               | hash        | chat_messages, likes, orders, paid_orders,  |
|                                      |             | gmv_cents:CURRENCY, peak_viewers,           |
|                                      |             | voucher_claims, bids, giveaway_entries;     |
|                                      |             | orders of other sources than sales:         |
|                                      |             | source:SOURCE:orders, source:SOURCE:paid,   |
|                                      |             | source:SOURCE:gmv_cents:CURRENCY            |
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
|                                      |             | target, reason, duration_s, until, message, |
|                                      |             | rule                                        |
| ``P{r:ROOM}:automod``                | hash        | automod settings: level, held_terms,        |
|                                      |             | blocked_terms, allowed_domains (JSON        |
|                                      |             | lists), hold_links, hold_contacts,          |
|                                      |             | hold_first_time, buyers_only; shield and    |
|                                      |             | saved (JSON: the settings before shield)    |
| ``P{r:ROOM}:spam:SLOT``              | hash        | messages of one slot of the spam window:    |
|                                      |             | "u:FP:USER" → times USER sent it, "c:FP" →  |
|                                      |             | users who sent it (FP: text fingerprint)    |
| ``P{r:ROOM}:chatters``               | set         | users who had a message published           |
| ``P{r:ROOM}:review``                 | zset        | review item ids by the time they entered    |
|                                      |             | (ms)                                        |
| ``P{r:ROOM}:review:items``           | hash        | review item id → JSON (user, role, text,    |
|                                      |             | rule, source, ts, visible, chat_id,         |
|                                      |             | reports, reasons); "#seq" → last held seq   |
| ``P{r:ROOM}:reports:MSG``            | set         | users who reported message MSG              |
| ``P{r:ROOM}:reports:by:USER``        | string      | reports USER made in the current window     |
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
| ``P{r:ROOM}:buyers``                 | set         | users who reserved in a flash sale of the   |
|                                      |             | room (the funnel's ``reserved`` users)      |
| ``P{r:ROOM}:buyers:other``           | set         | users who won an auction of the room or     |
|                                      |             | bought from its replays                     |
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
| ``P{r:ROOM}:voucher:VOUCHER``        | hash        | a voucher: terms, left, claimed, state,     |
|                                      |             | dropped_at, ended_at                        |
| ``P{r:ROOM}:vouchers``               | zset        | the room's voucher ids by creation (ms)     |
| ``P{r:ROOM}:voucher:VOUCHER:users``  | hash        | user → claims taken of the voucher          |
| ``P{r:ROOM}:voucher:VOUCHER:keys``   | hash        | the claim answer given (JSON) by            |
|                                      |             | ``idempotency_field``                       |
| ``P{r:ROOM}:claims``                 | hash        | claim id → JSON {id, voucher, user, state,  |
|                                      |             | order} (state: unused, used, void)          |
| ``P{r:ROOM}:wallets``                | hash        | user → JSON list of the user's claim ids    |
| ``P{r:ROOM}:vouchers:pinned``        | string      | id of the pinned voucher                    |
| ``P{r:ROOM}:auction:AUCTION``        | hash        | an auction: terms, increments (JSON),       |
|                                      |             | price, leader, leader_max, bids, ends_at,   |
|                                      |             | state, winner, order                        |
| ``P{r:ROOM}:auctions``               | zset        | the room's auction ids by creation (ms)     |
| ``P{r:ROOM}:auction:AUCTION:keys``   | hash        | the bid answer given (JSON) by              |
|                                      |             | ``idempotency_field``                       |
| ``Pauctions:clock``                  | zset        | "ROOM AUCTION" by its end time (ms)         |
| ``P{r:ROOM}:gw:GIVEAWAY``            | hash        | a giveaway: terms, eligibility, seed,       |
|                                      |             | commitment, state, winners, orders          |
| ``P{r:ROOM}:giveaways``              | zset        | the room's giveaway ids by creation (ms)    |
| ``P{r:ROOM}:gw:GIVEAWAY:entrants``   | set         | users who entered                           |
| ``P{r:ROOM}:gw:GIVEAWAY:said``       | set         | users who typed the keyword in chat         |
| ``Pgiveaways:clock``                 | zset        | "ROOM GIVEAWAY" by its end time (ms)        |
| ``Pnodes``                           | hash        | node id → JSON {url, started_at, seen_at,   |
|                                      |             | expires_at} (ms); lapsed entries are        |
|                                      |             | ignored                                     |
| ``P{r:ROOM}:watch``                  | hash        | user → whole seconds watched in the room    |
|                                      |             | (every node, reconnects summed once)        |
| ``P{r:ROOM}:watch:span``             | hash        | user → "ms:from:until": milliseconds        |
|                                      |             | watched and the latest covered span (ms)    |
| ``P{r:ROOM}:analytics``              | hash        | totals of impressions, entries,             |
|                                      |             | product_views; "p:PRODUCT:STEP" and         |
|                                      |             | "p:PRODUCT:gmv_cents" per product;          |
|                                      |             | "q:PRODUCT:SLOT:reserved" and "…:paid" per  |
|                                      |             | product and 10 s slot; "s:SALE:refused"     |
|                                      |             | buy attempts a sale refused;                |
|                                      |             | "t:SLOT:viewers" viewers per 10 s slot      |
| ``P{r:ROOM}:analytics:users:STEP``   | set         | visitors of a funnel step (or of            |
|                                      |             | voucher_claims, bids, giveaway_entries),    |
|                                      |             | exact while ``analytics.exact_users_max``   |
|                                      |             | or fewer                                    |
| ``P{r:ROOM}:analytics:hll:STEP``     | HyperLogLog | visitors of a funnel step once past that    |
|                                      |             | (the set moves here)                        |
| ``P{r:ROOM}:analytics:marks``        | zset        | "pin:PRODUCT:ms" pins by time (ms)          |
| ``Preport:ROOM``                     | string      | the report frozen when the room ended       |
|                                      |             | (JSON, with the room's anchor); kept after  |
|                                      |             | the room is deleted                         |
| ``P{schema}:version``                | string      | the schema version the store holds          |
|                                      |             | (``store/schema.py``)                       |
| ``P{schema}:lock``                   | string      | the token of the node migrating the schema  |
| ``P{r:ROOM}:replay:REPLAY``          | hash        | a recording: id, room, anchor, node_url,    |
|                                      |             | started_at, ended_at (ms), duration_s,      |
|                                      |             | video_codec, format, status, stopped,       |
|                                      |             | storage, files, node (the recording node's  |
|                                      |             | registry id); deleting (1: deleted          |
|                                      |             | through another node, hidden until its      |
|                                      |             | recording node has stopped it)              |
| ``P{r:ROOM}:replays``                | zset        | the room's replay ids by started_at (ms)    |
| ``P{r:ROOM}:replay:REPLAY:timeline`` | stream      | timeline entries: e (JSON, ``at`` in ms),   |
|                                      |             | as they happened while recording            |
| ``P{r:ROOM}:hls``                    | string      | id of the replay recording the live room    |
|                                      |             | now (its live HLS)                          |
| ``Preplays:recent``                  | zset        | "ROOM REPLAY" of finished replays by        |
|                                      |             | ended_at (ms), for the home page            |

How long each family lives (its bound): ``TTL`` (the key expires), ``MAXLEN`` (a
capped stream), ``trim:`` (a script or job removes old members; the rule says which)
or ``fixed:`` (a set number of keys, whatever the traffic). A room's keys are deleted
with the room, ``rooms.retention_days`` after it ended (``livecommerce/rooms/retention.py``).

| family                               | retention                                                 |
|--------------------------------------|-----------------------------------------------------------|
| ``P{r:ROOM}:room``                   | trim: deleted ``rooms.retention_days`` after the room     |
|                                      | ended, once its outbox is empty and no reservation is     |
|                                      | open (``rooms_delete.lua``, every                         |
|                                      | ``rooms.sweep_interval_s``)                               |
| ``Prooms``                           | trim: a room leaves it when the room is deleted           |
| ``Prooms:live``                      | trim: removed when the room goes offline or its origin's  |
|                                      | beat lapses                                               |
| ``Prooms:ended``                     | trim: a room leaves it when the room is deleted           |
| ``P{r:ROOM}:chat``                   | MAXLEN ~ ``channel.history_size``                         |
| ``P{r:ROOM}:chat:bucket``            | TTL ``channel.chat_idle_ttl_s`` (1 h) after the last      |
|                                      | message                                                   |
| ``P{r:ROOM}:chat:last``              | TTL ``channel.chat_idle_ttl_s`` (1 h) after the last      |
|                                      | message                                                   |
| ``P{r:ROOM}:counters``               | trim: deleted with its room (``rooms_delete.lua``) (fixed |
|                                      | fields)                                                   |
| ``P{r:ROOM}:engagement``             | TTL the discovery window; slots past it removed when a    |
|                                      | new slot starts                                           |
| ``P{r:ROOM}:likes:USER``             | TTL the longer of a full refill and the window            |
| ``P{r:ROOM}:presence``               | trim: stale fields removed when counted (one field per    |
|                                      | node)                                                     |
| ``P{r:ROOM}:mod``                    | trim: deleted with its room (``rooms_delete.lua``) (two   |
|                                      | fields)                                                   |
| ``P{r:ROOM}:mutes``                  | trim: deleted with its room (``rooms_delete.lua``);       |
|                                      | unmute removes a field                                    |
| ``P{r:ROOM}:bans``                   | trim: deleted with its room (``rooms_delete.lua``); unban |
|                                      | removes a field                                           |
| ``P{r:ROOM}:audit``                  | MAXLEN ~ ``moderation.audit_log_size``                    |
| ``P{r:ROOM}:automod``                | trim: deleted with its room (``rooms_delete.lua``);       |
|                                      | (fixed fields)                                            |
| ``P{r:ROOM}:spam:SLOT``              | TTL two slots (``moderation.spam_window_s``) after its    |
|                                      | last write                                                |
| ``P{r:ROOM}:chatters``               | trim: deleted with its room (``rooms_delete.lua``); (one  |
|                                      | member per user)                                          |
| ``P{r:ROOM}:review``                 | TTL ``moderation.review_ttl_s`` after its last write;     |
|                                      | trim: older items and those past                          |
|                                      | ``moderation.review_queue_size`` dropped on each write    |
| ``P{r:ROOM}:review:items``           | TTL ``moderation.review_ttl_s`` after its last write;     |
|                                      | trim: with ``P{r:ROOM}:review``                           |
| ``P{r:ROOM}:reports:MSG``            | TTL ``moderation.review_ttl_s`` after its last report;    |
|                                      | removed when the item is decided                          |
| ``P{r:ROOM}:reports:by:USER``        | TTL ``moderation.report_window_s``                        |
| ``P{r:ROOM}:products``               | trim: deleted with its room (``rooms_delete.lua``)        |
| ``P{r:ROOM}:pinned``                 | trim: deleted with its room (``rooms_delete.lua``)        |
| ``P{r:ROOM}:sale:SALE``              | trim: deleted with its room (``rooms_delete.lua``)        |
| ``P{r:ROOM}:sales``                  | trim: deleted with its room (``rooms_delete.lua``)        |
| ``P{r:ROOM}:sale:SALE:buyers``       | trim: deleted with its room (``rooms_delete.lua``);       |
|                                      | cancel and expiry remove a field                          |
| ``P{r:ROOM}:sale:SALE:idempotency``  | TTL ``commerce.idempotency_ttl_s`` (1 day) after the      |
|                                      | sale's last buy                                           |
| ``P{r:ROOM}:order:ORDER``            | TTL once final: ``commerce.order_retention_days`` after   |
|                                      | it is paid, cancelled or expired (set by                  |
|                                      | ``orders_settle.lua``); none while reserved (the sweeper  |
|                                      | settles it)                                               |
| ``P{r:ROOM}:reservations``           | trim: settling an order removes it; gone when empty       |
| ``P{r:ROOM}:buyers``                 | trim: deleted with its room (``rooms_delete.lua``)        |
| ``P{r:ROOM}:buyers:other``           | trim: deleted with its room (``rooms_delete.lua``)        |
| ``P{r:ROOM}:outbox``                 | trim: ``XTRIM MINID`` of entries every endpoint's group   |
|                                      | acknowledged and older than ``hooks.retention_days`` (the |
|                                      | dispatcher, every ``hooks.trim_interval_s``)              |
| ``Poutboxes``                        | trim: a room leaves it when the room is deleted           |
| ``Preserving``                       | trim: a room leaves it when the room is deleted           |
| ``Psales:clock``                     | trim: a sale leaves it when it ends                       |
| ``Phooks:dead``                      | trim: letters older than                                  |
|                                      | ``hooks.dead_letter_retention_days`` removed (the         |
|                                      | dispatcher, every ``hooks.trim_interval_s``)              |
| ``Phooks:attempts``                  | trim: a field goes when its entry is acknowledged or      |
|                                      | dead-lettered, or its endpoint is no longer configured    |
|                                      | (the dispatcher, every ``hooks.trim_interval_s``)         |
| ``Pdab:YYYY-MM-DD``                  | TTL ``commerce.daily_buyers_retention_days`` (400) after  |
|                                      | its last new buyer                                        |
| ``P{r:ROOM}:voucher:VOUCHER``        | trim: deleted with its room (``rooms_delete.lua``)        |
| ``P{r:ROOM}:vouchers``               | trim: deleted with its room (``rooms_delete.lua``)        |
| ``P{r:ROOM}:voucher:VOUCHER:users``  | trim: deleted with its room (``rooms_delete.lua``); one   |
|                                      | field per claimer                                         |
| ``P{r:ROOM}:voucher:VOUCHER:keys``   | TTL ``commerce.idempotency_ttl_s`` (1 day) after the      |
|                                      | voucher's last claim                                      |
| ``P{r:ROOM}:claims``                 | trim: deleted with its room (``rooms_delete.lua``); one   |
|                                      | field per claim (at most the sum of the vouchers'         |
|                                      | quantities)                                               |
| ``P{r:ROOM}:wallets``                | trim: deleted with its room (``rooms_delete.lua``); one   |
|                                      | field per claimer                                         |
| ``P{r:ROOM}:vouchers:pinned``        | trim: deleted with its room (``rooms_delete.lua``)        |
| ``P{r:ROOM}:auction:AUCTION``        | trim: deleted with its room (``rooms_delete.lua``)        |
| ``P{r:ROOM}:auctions``               | trim: deleted with its room (``rooms_delete.lua``)        |
| ``P{r:ROOM}:auction:AUCTION:keys``   | TTL ``commerce.idempotency_ttl_s`` (1 day) after the      |
|                                      | auction's last bid                                        |
| ``Pauctions:clock``                  | trim: an auction leaves it when it is closed              |
| ``P{r:ROOM}:gw:GIVEAWAY``            | trim: deleted with its room (``rooms_delete.lua``)        |
| ``P{r:ROOM}:giveaways``              | trim: deleted with its room (``rooms_delete.lua``)        |
| ``P{r:ROOM}:gw:GIVEAWAY:entrants``   | trim: deleted with its room (``rooms_delete.lua``); (the  |
|                                      | published entrants)                                       |
| ``P{r:ROOM}:gw:GIVEAWAY:said``       | TTL 1 day after the keyword was last typed                |
| ``Pgiveaways:clock``                 | trim: a giveaway leaves it once its winners are drawn     |
| ``Pnodes``                           | trim: lapsed entries pruned long after they lapse         |
| ``P{r:ROOM}:watch``                  | trim: deleted with its room (``rooms_delete.lua``); TTL   |
|                                      | ``analytics.live_retention_days`` once it ends            |
| ``P{r:ROOM}:watch:span``             | trim: deleted with its room (``rooms_delete.lua``); TTL   |
|                                      | ``analytics.live_retention_days`` once it ends            |
| ``P{r:ROOM}:analytics``              | trim: deleted with its room (``rooms_delete.lua``); TTL   |
|                                      | ``analytics.live_retention_days`` once it ends            |
| ``P{r:ROOM}:analytics:users:STEP``   | trim: deleted with its room (``rooms_delete.lua``); at    |
|                                      | most ``analytics.exact_users_max`` members, then moved to |
|                                      | the HyperLogLog; TTL ``analytics.live_retention_days``    |
|                                      | once the room ends                                        |
| ``P{r:ROOM}:analytics:hll:STEP``     | trim: deleted with its room (``rooms_delete.lua``); 12 KB |
|                                      | at most; TTL ``analytics.live_retention_days`` once the   |
|                                      | room ends                                                 |
| ``P{r:ROOM}:analytics:marks``        | trim: the newest 500 pins kept; TTL                       |
|                                      | ``analytics.live_retention_days`` once the room ends      |
| ``Preport:ROOM``                     | TTL ``analytics.report_retention_days`` (the room's       |
|                                      | deletion leaves it)                                       |
| ``P{schema}:version``                | fixed: one key per deployment                             |
| ``P{schema}:lock``                   | TTL ``store.schema_lock_s`` (deleted when the migration   |
|                                      | ends)                                                     |
| ``P{r:ROOM}:replay:REPLAY``          | TTL ``recording.keep_days`` after it starts, renewed when |
|                                      | it ends; 1 h once marked ``deleting``                     |
| ``P{r:ROOM}:replays``                | TTL ``recording.keep_days`` after the last replay; older  |
|                                      | members trimmed when a replay is added                    |
| ``P{r:ROOM}:replay:REPLAY:timeline`` | TTL ``recording.keep_days``; MAXLEN ~ 10,000 (chat is     |
|                                      | capped at ``recording.timeline_chat_max`` before)         |
| ``P{r:ROOM}:hls``                    | TTL 1 h, renewed by each segment; removed when the        |
|                                      | recording ends or its replay is deleted                   |
| ``Preplays:recent``                  | trim: members older than ``recording.keep_days`` and all  |
|                                      | but the newest 1,000 removed when a replay ends           |

Shard pub/sub channels (not keys, same naming and hash tag):

| channel                     | carries                                               |
|-----------------------------|-------------------------------------------------------|
| ``P{r:ROOM}:events``        | the room's events, msgpack maps with a ``type``       |
"""

from __future__ import annotations

from dataclasses import dataclass

# The analytics funnel's steps (``analytics/funnel.py``'s ``Step``; a test keeps them equal):
# each has a visitor set and a HyperLogLog per room.
# The funnel's steps, then the selling formats' (claims, bids, giveaway entries): each has
# a visitor set and HyperLogLog of its own.
ANALYTICS_STEPS = (
    "impressions",
    "entries",
    "product_views",
    "buy_attempts",
    "reserved",
    "paid",
    "voucher_claims",
    "bids",
    "giveaway_entries",
)


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

    def automod(self, room_id: str) -> str:
        """Hash of the room's automod settings (and shield mode's saved settings)."""
        return f"{self.prefix}{self.room_tag(room_id)}:automod"

    def spam_slot(self, room_id: str, slot: int) -> str:
        """Hash of message fingerprints counted in one slot of the spam window."""
        return f"{self.prefix}{self.room_tag(room_id)}:spam:{slot}"

    def chatters(self, room_id: str) -> str:
        """Set of users who had a message published in the room."""
        return f"{self.prefix}{self.room_tag(room_id)}:chatters"

    def review_index(self, room_id: str) -> str:
        """Sorted set of the review queue's item ids by the time they entered."""
        return f"{self.prefix}{self.room_tag(room_id)}:review"

    def review_items(self, room_id: str) -> str:
        """Hash of the review queue's items (id → JSON)."""
        return f"{self.prefix}{self.room_tag(room_id)}:review:items"

    def reporters(self, room_id: str, message_id: str) -> str:
        """Set of users who reported one message."""
        return f"{self.prefix}{self.room_tag(room_id)}:reports:{message_id}"

    def report_budget(self, room_id: str, user: str) -> str:
        """Counter of one user's reports in the current report window."""
        return f"{self.prefix}{self.room_tag(room_id)}:reports:by:{user}"

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
        """Set of users who reserved in one of the room's flash sales; with
        :meth:`room_other_buyers`, everyone who placed an order in the room."""
        return f"{self.prefix}{self.room_tag(room_id)}:buyers"

    def room_other_buyers(self, room_id: str) -> str:
        """Set of users who won one of the room's auctions or bought from its replays."""
        return f"{self.prefix}{self.room_tag(room_id)}:buyers:other"

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

    def room_watch(self, room_id: str) -> str:
        return f"{self.prefix}{self.room_tag(room_id)}:watch"

    def watch_spans(self, room_id: str) -> str:
        """Hash of each user's watched milliseconds and latest covered span."""
        return f"{self.prefix}{self.room_tag(room_id)}:watch:span"

    def analytics(self, room_id: str) -> str:
        """Hash of the room's funnel totals, per-product counts and 10 s series."""
        return f"{self.prefix}{self.room_tag(room_id)}:analytics"

    def analytics_users(self, room_id: str, step: str) -> str:
        """Set of a funnel step's visitors while the count is small (exact)."""
        return f"{self.prefix}{self.room_tag(room_id)}:analytics:users:{step}"

    def analytics_hll(self, room_id: str, step: str) -> str:
        """HyperLogLog of a funnel step's visitors once the exact set grew too big."""
        return f"{self.prefix}{self.room_tag(room_id)}:analytics:hll:{step}"

    def analytics_marks(self, room_id: str) -> str:
        """Sorted set of the room's pins by time, for the dashboard's time axis."""
        return f"{self.prefix}{self.room_tag(room_id)}:analytics:marks"

    def analytics_report(self, room_id: str) -> str:
        """The room's final report (JSON), frozen when it ended; outside the room's hash
        tag, so it outlives the room's deletion."""
        return f"{self.prefix}report:{room_id}"

    def voucher(self, room_id: str, voucher_id: str) -> str:
        """Hash of one voucher."""
        return f"{self.prefix}{self.room_tag(room_id)}:voucher:{voucher_id}"

    def vouchers(self, room_id: str) -> str:
        """Sorted set of the room's voucher ids by creation time."""
        return f"{self.prefix}{self.room_tag(room_id)}:vouchers"

    def voucher_users(self, room_id: str, voucher_id: str) -> str:
        """Hash of claims each user took of one voucher."""
        return f"{self.prefix}{self.room_tag(room_id)}:voucher:{voucher_id}:users"

    def voucher_idempotency(self, room_id: str, voucher_id: str) -> str:
        """Hash of one voucher's claim answers by :meth:`idempotency_field`."""
        return f"{self.prefix}{self.room_tag(room_id)}:voucher:{voucher_id}:keys"

    def voucher_claims(self, room_id: str) -> str:
        """Hash of the room's voucher claims (claim id → JSON)."""
        return f"{self.prefix}{self.room_tag(room_id)}:claims"

    def voucher_wallets(self, room_id: str) -> str:
        """Hash of each user's claim ids in the room (user → JSON list)."""
        return f"{self.prefix}{self.room_tag(room_id)}:wallets"

    def pinned_voucher(self, room_id: str) -> str:
        """Id of the room's pinned voucher."""
        return f"{self.prefix}{self.room_tag(room_id)}:vouchers:pinned"

    def auction(self, room_id: str, auction_id: str) -> str:
        """Hash of one auction."""
        return f"{self.prefix}{self.room_tag(room_id)}:auction:{auction_id}"

    def auctions(self, room_id: str) -> str:
        """Sorted set of the room's auction ids by creation time."""
        return f"{self.prefix}{self.room_tag(room_id)}:auctions"

    def auction_idempotency(self, room_id: str, auction_id: str) -> str:
        """Hash of one auction's bid answers by :meth:`idempotency_field`."""
        return f"{self.prefix}{self.room_tag(room_id)}:auction:{auction_id}:keys"

    def auctions_clock(self) -> str:
        """Sorted set of "ROOM AUCTION" by the auction's end time (ms)."""
        return f"{self.prefix}auctions:clock"

    def giveaway(self, room_id: str, giveaway_id: str) -> str:
        """Hash of one giveaway."""
        return f"{self.prefix}{self.room_tag(room_id)}:gw:{giveaway_id}"

    def giveaways(self, room_id: str) -> str:
        """Sorted set of the room's giveaway ids by creation time."""
        return f"{self.prefix}{self.room_tag(room_id)}:giveaways"

    def giveaway_entrants(self, room_id: str, giveaway_id: str) -> str:
        """Set of the users who entered one giveaway."""
        return f"{self.prefix}{self.room_tag(room_id)}:gw:{giveaway_id}:entrants"

    def giveaway_said(self, room_id: str, giveaway_id: str) -> str:
        """Set of the users who typed one giveaway's keyword in chat."""
        return f"{self.prefix}{self.room_tag(room_id)}:gw:{giveaway_id}:said"

    def giveaways_clock(self) -> str:
        """Sorted set of "ROOM GIVEAWAY" by the giveaway's end time (ms)."""
        return f"{self.prefix}giveaways:clock"

    def schema_version(self) -> str:
        """The schema version the store holds (``store/schema.py``)."""
        return f"{self.prefix}{{schema}}:version"

    def schema_lock(self) -> str:
        """The lock a node holds while it migrates the schema."""
        return f"{self.prefix}{{schema}}:lock"

    def rooms_ended(self) -> str:
        """Sorted set of ended room ids by the time they ended (ms)."""
        return f"{self.prefix}rooms:ended"

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
