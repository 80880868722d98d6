"""HTTP: the SCIM API, the admin API and the console, built by ``create_app(settings)``."""
