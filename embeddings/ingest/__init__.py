"""Adding statements from the files and links people have: PDF, web pages, text."""
