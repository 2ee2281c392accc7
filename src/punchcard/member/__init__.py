"""Members, identified by the shop's own id within a program."""
