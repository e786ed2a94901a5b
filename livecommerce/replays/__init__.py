"""Recordings of publications, their index in the store and their timelines (replays)."""
