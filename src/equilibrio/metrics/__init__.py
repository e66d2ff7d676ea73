"""Measures over the labelled store: content mix, conversation health, engagement."""
