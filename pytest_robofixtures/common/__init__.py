"""Pieces shared by the clients: clock, adaptive poller, HTTP session, transport seams.

Nothing here imports pytest or the sandbox.
"""
