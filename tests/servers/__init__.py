"""Real servers the tests start on loopback (see model_server.py)."""
