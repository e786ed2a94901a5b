"""Clients that talk to the server only over its public interface (anchor, viewer, moderator)."""
