"""Untrusted files are decoded in a child process with hard limits (see sandbox.py)."""
