"""The authorization matrix: every URL pattern of the portal × every role (see tests/test_url_matrix.py)."""
