"""Least privilege: the read-only roles, their column grants, `check` and the advised indexes."""
