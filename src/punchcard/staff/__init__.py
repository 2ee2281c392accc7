"""Staff accounts of the admin console: roles, argon2-hashed passwords, sessions, sign-in lockout and the audit log."""
