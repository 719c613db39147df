"""Problem builders (placeholder: being written)."""
