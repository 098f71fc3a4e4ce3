"""How a reply about a time reads."""
