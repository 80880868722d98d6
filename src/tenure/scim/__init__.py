"""The SCIM 2.0 wire (RFC 7643 / RFC 7644): schemas, filters, PATCH, mapping, errors."""
