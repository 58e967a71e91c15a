"""What members can do, one extension per feature: asking, sources, administration."""
