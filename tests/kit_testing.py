"""Constants the test modules share (a plain module: two conftest.py files cannot both be imported)."""

OAUTH_CLIENT_ID = "dummy-client-id-for-tests"
SPACE_LANGUAGE = "ja"  # the pack whose Space files the session server reads (a non-Latin script)
