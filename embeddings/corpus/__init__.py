"""Statements as the corpus holds them: documents with their headers, and their paragraphs,
sentences and chunks as offsets into the exact text."""
