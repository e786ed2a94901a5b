"""The event registry as TypeScript: the frame block of the SDK's ``livecommerce.d.ts``.

``python -m livecommerce.channel.export`` writes it between the ``// <registry:frames>``
markers of ``clients/sdk/livecommerce.d.ts``; a test fails when the file differs, so a
server frame cannot be missing from the SDK's types. A field's type follows its kind
(string, number, boolean, a record, a list) unless :data:`REFINED` names the SDK's own
richer type for it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from livecommerce.channel.frame_types import Field, FrameSpec, Kind

SDK_DECLARATIONS = Path("clients/sdk/livecommerce.d.ts")
WIDTH = 100
BLOCK = re.compile(r"(// <registry:frames>\n).*?(// </registry:frames>)", re.DOTALL)

KIND_TS = {
    Kind.string: "string",
    Kind.integer: "number",
    Kind.boolean: "boolean",
    Kind.map: "Record<string, unknown>",
    Kind.list: "unknown[]",
}
# (frame, field) → a type declared by hand in livecommerce.d.ts (or a literal type).
REFINED: dict[tuple[str, str], str] = {
    ("welcome", "room"): "Room",
    ("welcome", "messages"): "ChatMessage[]",
    ("welcome", "pinned_product"): "Product",
    ("welcome", "sales"): "Sale[]",
    ("welcome", "slow_mode"): "{ interval_s: number }",
    ("welcome", "formats"): "WelcomeFormats",
    ("welcome", "you"): "You",
    ("buy_result", "reason"): "BuyRefusal",
    ("order", "status"): "'paid' | 'cancelled' | 'expired'",
    ("sale_started", "sale"): "Sale",
    ("sale_ended", "sale"): "Sale",
    ("product_pinned", "product"): "Product",
    ("voucher_dropped", "voucher"): "Voucher",
    ("voucher_pinned", "voucher"): "Voucher",
    ("voucher_ended", "voucher"): "Voucher",
    ("auction_started", "auction"): "Auction",
    ("giveaway_started", "giveaway"): "Giveaway",
    ("giveaway_ended", "winners"): "string[]",
    ("giveaway_ended", "entrants"): "string[]",
    ("giveaway_ended", "entrants_truncated"): "true",
    ("review", "message"): "ReviewItem",
    ("review_resolved", "decision"): "'approve' | 'deny'",
}


def _field(frame: str, field: Field) -> str:
    kind = REFINED.get((frame, field.name), KIND_TS[field.kind])
    if field.nullable:
        kind += " | null"
    mark = "?" if field.optional else ""
    return f"{field.name}{mark}: {kind}"


def _entry(frame: FrameSpec) -> list[str]:
    """``  name: { … };`` on one line when it fits in 100 characters, else one field a line."""
    fields = [f"type: '{frame.name}'", *(_field(frame.name, f) for f in frame.fields)]
    line = f"  {frame.name}: {{ " + "; ".join(fields) + " };"
    if len(line) <= WIDTH:
        return [line]
    return [f"  {frame.name}: {{", *(f"    {field};" for field in fields), "  };"]


def frames_block(servers: Sequence[FrameSpec], clients: Sequence[FrameSpec]) -> str:
    """``ServerFrames`` (type → shape), ``ServerFrame`` and ``ClientFrame`` in TypeScript."""
    lines = ["/** Every server → client frame by type (docs/channel.md). */"]
    lines.append("export interface ServerFrames {")
    lines += [line for frame in servers for line in _entry(frame)]
    lines.append("}")
    lines.append("export type ServerFrame = ServerFrames[keyof ServerFrames];")
    lines.append("/** Every client → server frame by type (docs/channel.md). */")
    lines.append("export interface ClientFrames {")
    lines += [line for frame in clients for line in _entry(frame)]
    lines.append("}")
    lines.append("export type ClientFrame = ClientFrames[keyof ClientFrames];")
    return "\n".join(lines) + "\n"


def declarations_with_frames(text: str, block: str) -> str:
    """``text`` (livecommerce.d.ts) with its frame block written anew."""
    if not BLOCK.search(text):
        raise ValueError(f"{SDK_DECLARATIONS} has no '// <registry:frames>' block")
    return BLOCK.sub(lambda match: match.group(1) + block + match.group(2), text)
