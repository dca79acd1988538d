"""Data stores. Nothing here imports strawberry or starlette."""
