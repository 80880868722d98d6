"""The console: server-rendered pages for support and organisation admins."""
