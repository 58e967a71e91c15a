"""Measuring and learning answer quality: evaluation by question style with misses explained,
and the cross-validated training of the ranking models."""
