"""From a question to quotes: reading the question, matching document headers, gathering and
ranking candidate sentences, deciding whether anything answers, slicing the quote, citing it and
rendering it for a terminal."""
