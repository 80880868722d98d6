"""Tenure: board rooms and memberships provisioned over SCIM 2.0, with history never lost."""

__version__ = "0.1.0"
