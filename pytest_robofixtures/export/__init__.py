"""Exports of recordings to the formats of other tools (MCAP for Foxglove)."""
