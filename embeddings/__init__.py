"""Verbatim's retrieval core: corpus, chunks, vectors, index and search, with no Discord in sight."""
