"""Helpers that find the requester's own words in a message: replies, forwards, attached letters."""
