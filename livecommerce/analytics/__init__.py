"""Seller analytics: the room's funnel (impression → entry → product view → buy attempt →
reservation → payment), watch time, retention, per-product rows, the report frozen when
the room ends, and daily active buyers over a date range. Counts are written inside the
scripts that run anyway (``lib/analytics.lua``); this package counts the steps that have
no script of their own, measures watch time from channel presence, and reads. See
docs/analytics.md for what every metric counts."""
