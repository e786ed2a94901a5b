"""Moderation: mutes, bans, slow mode, message deletion and the audit log."""
