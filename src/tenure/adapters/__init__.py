"""Adapters from the domain to the outside world."""
