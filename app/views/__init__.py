"""Views: one function per resource builds a response from one or two queries (DESIGN.md)."""
