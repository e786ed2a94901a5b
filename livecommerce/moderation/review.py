"""The review queue: held and reported messages, moderators' decisions, viewers' reports.

Guarantees:

* the queue lives in the store (``P{r:ROOM}:review`` and its items), so it survives
  any node's restart; items expire after ``moderation.review_ttl_s`` and the queue keeps
  at most ``moderation.review_queue_size`` of them;
* a decision is one script (``review_decide.lua``): of several moderators acting on one
  item exactly one decides it, the others get ``review_item_not_found``;
* an approved held message is published as ``chat`` on the room bus after the write, so
  every node's viewers get it at once; its author gets ``chat_approved`` and staff
  ``review_resolved``;
* every automated hold and every decision is in the audit log.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from livecommerce.bus import Delivery
from livecommerce.config import ModerationSettings
from livecommerce.context import StoreContext
from livecommerce.errors import ApiError, ErrorCode
from livecommerce.store.replies_moderation import ReviewDecideReply, ReviewItem, ReviewReportReply

MAX_REASON_CHARS = 200


@dataclass(frozen=True)
class Decision:
    item: ReviewItem
    decision: str
    chat_id: str
    until_ms: int
    audit_id: str


@dataclass(frozen=True)
class ReportOutcome:
    duplicate: bool
    reporters: int
    held: bool


def review_frame(item: ReviewItem) -> Delivery:
    """The staff frame announcing ``item``."""
    return Delivery({"type": "review", "message": item.to_json()}, staff=True)


def held_frame(item: ReviewItem) -> Delivery:
    """The frame telling ``item``'s author that it is held."""
    return Delivery(
        {"type": "chat_held", "id": item.id, "text": item.text, "ts": item.ts, "rule": item.rule},
        to=item.user,
    )


class ReviewService:
    """Reads the review queue, applies decisions and takes reports."""

    def __init__(self, *, store: StoreContext, settings: ModerationSettings, history_size: int):
        self._client = store.client
        self._keys = store.keys
        self._scripts = store.scripts
        self._bus = store.bus
        self._settings = settings
        self._history_size = history_size

    async def queue(self, room_id: str, limit: int) -> list[ReviewItem]:
        """Items waiting, oldest first (at most ``limit``), expired ones left out."""
        keys = self._keys
        ids = [
            _text(raw)
            for raw in await self._client.zrange(keys.review_index(room_id), 0, limit - 1)
        ]
        if not ids:
            return []
        raws = await self._client.hmget(keys.review_items(room_id), ids)
        items = [ReviewItem.from_json("review queue", raw) for raw in raws if raw is not None]
        oldest = _now_ms() - self._settings.review_ttl_s * 1000
        return [item for item in items if item.ts > oldest]

    async def decide(
        self,
        room_id: str,
        item_id: str,
        decision: str,
        actor: str,
        actor_role: str,
        timeout_s: int = 0,
    ) -> Decision:
        """Approve or deny one item; ApiError ``review_item_not_found`` when it is gone."""
        keys = self._keys
        reply = await self._scripts.call(
            ReviewDecideReply,
            [
                keys.review_index(room_id),
                keys.review_items(room_id),
                keys.chat_history(room_id),
                keys.room_counters(room_id),
                keys.room_mutes(room_id),
                keys.chatters(room_id),
                keys.moderation_log(room_id),
                keys.reporters(room_id, item_id),
            ],
            [
                item_id,
                decision,
                actor,
                actor_role,
                timeout_s,
                self._history_size,
                self._settings.audit_log_size,
            ],
        )
        if reply.item is None:
            raise ApiError(ErrorCode.review_item_not_found)
        item = reply.item
        await self._publish_decision(room_id, item, decision, actor, reply)
        return Decision(item, decision, reply.chat_id, reply.until_ms, reply.audit_id)

    async def _publish_decision(
        self, room_id: str, item: ReviewItem, decision: str, actor: str, reply: ReviewDecideReply
    ) -> None:
        bus = self._bus
        if reply.chat_id:
            await bus.publish(
                room_id,
                {
                    "type": "chat",
                    "id": reply.chat_id,
                    "user": item.user,
                    "role": item.role,
                    "text": item.text,
                    "ts": int(reply.chat_id.partition("-")[0]),
                },
            )
        if decision == "deny" and item.visible:
            await bus.publish(room_id, {"type": "chat_deleted", "id": item.id})
        if not item.visible:
            if decision == "approve":
                answer = {"type": "chat_approved", "id": item.id, "chat_id": reply.chat_id}
            else:
                answer = {"type": "chat_denied", "id": item.id}
            await bus.publish(room_id, Delivery(answer, to=item.user))
        if reply.until_ms > 0:
            await bus.publish(
                room_id, Delivery({"type": "muted", "until": reply.until_ms}, to=item.user)
            )
        await bus.publish(
            room_id,
            Delivery(
                {
                    "type": "review_resolved",
                    "id": item.id,
                    "decision": decision,
                    "by": actor,
                    "chat_id": reply.chat_id or None,
                },
                staff=True,
            ),
        )

    async def user_facts(self, room_id: str, user: str) -> dict[str, object]:
        """For the moderator console's user card: bought here (sales and units held,
        reserved or paid), had a message published, current timeout and ban."""
        keys = self._keys
        sales = [_text(raw) for raw in await self._client.zrange(keys.sales(room_id), 0, -1)]
        pipe = self._client.pipeline(transaction=False)
        pipe.sismember(keys.room_buyers(room_id), user)
        pipe.sismember(keys.room_other_buyers(room_id), user)
        pipe.sismember(keys.chatters(room_id), user)
        pipe.hget(keys.room_mutes(room_id), user)
        pipe.hexists(keys.room_bans(room_id), user)
        for sale in sales:
            pipe.hget(keys.sale_buyers(room_id, sale), user)
        sale_buyer, other_buyer, chatter, muted, banned, *units = await pipe.execute()
        buyer = sale_buyer or other_buyer
        held = [int(value) for value in units if value is not None and int(value) > 0]
        muted_until = int(muted) if muted is not None and int(muted) > _now_ms() else None
        return {
            "buyer": bool(buyer),
            "orders_in_sales": len(held),
            "units_held": sum(held),
            "has_chatted": bool(chatter),
            "muted_until": muted_until,
            "banned": bool(banned),
        }

    async def report(
        self, room_id: str, message_id: str, reporter: str, reason: str
    ) -> ReportOutcome:
        """Count a viewer's report; with ``moderation.report_threshold`` distinct reporters
        the message leaves the chat and waits for review."""
        keys = self._keys
        limits = self._settings
        reply = await self._scripts.call(
            ReviewReportReply,
            [
                keys.chat_history(room_id),
                keys.reporters(room_id, message_id),
                keys.report_budget(room_id, reporter),
                keys.review_index(room_id),
                keys.review_items(room_id),
                keys.moderation_log(room_id),
            ],
            [
                message_id,
                reporter,
                reason[:MAX_REASON_CHARS],
                limits.report_threshold,
                limits.review_ttl_s * 1000,
                limits.review_queue_size,
                limits.audit_log_size,
                limits.reports_per_window,
                limits.report_window_s * 1000,
            ],
        )
        if reply.refusal == "message_not_found":
            raise ApiError(ErrorCode.message_not_found)
        if reply.refusal == "own_message":
            raise ApiError(ErrorCode.invalid_field, "You cannot report your own message.")
        if reply.refusal == "rate_limited":
            raise ApiError(
                ErrorCode.rate_limited, "Too many reports; wait a while.", until=reply.at_ms
            )
        if reply.item is not None:
            await self._bus.publish(room_id, review_frame(reply.item))
            if reply.held:
                await self._bus.publish(room_id, {"type": "chat_deleted", "id": reply.item.id})
                await self._bus.publish(room_id, held_frame(reply.item))
        return ReportOutcome(reply.duplicate, reply.reporters, reply.held)


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _now_ms() -> int:
    return int(time.time() * 1000)
