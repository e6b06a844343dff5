"""Pydantic wire models, one module per resource."""
