"""Use cases: one function each, owning its transaction through a unit of work."""
