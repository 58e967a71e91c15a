"""Everything that turns statements into something searchable: the embedding model, the vector
and keyword indexes, and the on-disk store that keeps them verified and up to date."""
