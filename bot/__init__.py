"""Verbatim's Discord front end."""
