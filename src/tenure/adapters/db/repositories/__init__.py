"""Repositories: each is built for one organisation and cannot reach another's rows."""
