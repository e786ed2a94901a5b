"""The full-screen console's model: what each frame and poll does to what the panes show."""

from __future__ import annotations

from clients.anchor.cockpit_model import CHAT_KEEP, CockpitModel, product_row

SALE = {
    "id": "s_1", "product_id": "p_1", "price_cents": 990, "currency": "EUR", "quantity": 5,
    "left": 5, "status": "open", "ends_at": 2_000_000_000_000,
}  # fmt: skip
PRODUCT = {"id": "p_1", "title": "Oolong", "price_cents": 1800, "currency": "EUR"}


def welcomed() -> CockpitModel:
    model = CockpitModel()
    model.apply(
        {
            "type": "welcome", "room": {"status": "live", "title": "Tea"}, "likes": 10,
            "viewers": 2, "pinned_product": PRODUCT, "sales": [SALE],
            "messages": [{"id": "1-0", "user": "bob", "text": "hi"}],
        }
    )  # fmt: skip
    return model


def test_stock_moves_become_order_feed_lines() -> None:
    model = welcomed()
    model.apply({"type": "sale_stock", "sale": "s_1", "left": 3})
    model.apply({"type": "sale_stock", "sale": "s_1", "left": 4})
    lines = [line.split(" ", 1)[1] for line in model.orders_feed]
    assert lines == ["2 × Oolong reserved (3/5 left)", "1 × Oolong back in stock (4/5 left)"]
    assert model.feed_count == 2
    assert model.current_sale() is not None
    assert model.current_sale().left == 4  # type: ignore[union-attr]


def test_likes_per_minute_counts_the_last_minute_only() -> None:
    model = welcomed()
    model.apply({"type": "likes", "total": 15}, now=100.0)
    model.apply({"type": "likes", "total": 18}, now=130.0)
    assert model.likes_per_minute(now=150.0) == 8
    assert model.likes_per_minute(now=165.0) == 3
    assert model.likes_per_minute(now=200.0) == 0


def test_chat_is_bounded_deduplicated_and_deletions_remove_lines() -> None:
    model = welcomed()
    model.apply({"type": "chat", "id": "1-0", "user": "bob", "text": "hi"})  # a resume repeat
    assert len(model.chat) == 1
    for n in range(CHAT_KEEP + 5):
        model.apply({"type": "chat", "id": f"{n + 2}-0", "user": "eve", "text": str(n)})
    assert len(model.chat) == CHAT_KEEP
    model.apply({"type": "chat_deleted", "id": f"{CHAT_KEEP + 6}-0"})
    assert f"{CHAT_KEEP + 6}-0" not in {line.id for line in model.chat}


def test_rates_come_from_counter_deltas() -> None:
    model = welcomed()
    model.set_publication(live=True, reconnecting=False)
    model.apply_sent_bytes(0, now=10.0)
    model.apply_sent_bytes(250_000, now=12.0)
    assert model.media.bitrate_kbps == 1000.0
    media = {
        "viewers": 3,
        "publication": {"tracks": {"video": {"frames_in": 100, "keyframe_requests_sent": 2}}},
        "subscriptions": [{"tracks": {"video": {"frames_dropped": 4}, "audio": {}}}],
    }
    model.apply_media(media, now=20.0)
    media["publication"]["tracks"]["video"]["frames_in"] = 160  # type: ignore[index]
    model.apply_media(media, now=22.0)
    assert (model.media.fps, model.media.keyframe_requests, model.media.frames_dropped) == (
        30.0, 2, 4,
    )  # fmt: skip
    model.set_publication(live=False, reconnecting=True)
    assert (model.media.fps, model.media.bitrate_kbps) == (0.0, 0.0)


def test_a_product_row_names_the_image_file_and_the_pin() -> None:
    stored = {**PRODUCT, "image_url": "/images/" + "a" * 64 + ".png"}
    assert product_row(stored, "p_1") == (
        "PIN", "p_1", "Oolong", "EUR 18.00", "aaaaaaaaaaaa….png",
    )  # fmt: skip
    linked = {**PRODUCT, "image_url": "https://cdn.example/tea/oolong.jpg"}
    assert product_row(linked, None)[4] == "oolong.jpg"
    assert product_row(PRODUCT, None)[4] == "—"
