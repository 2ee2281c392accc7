"""Members' data: one export of everything stored about a member, and their erasure (GDPR)."""
