"""The rules of Scholia. Services take the session (and, where it matters, the acting user) as
arguments and never touch ``request`` or ``g``, so tests call them directly."""
