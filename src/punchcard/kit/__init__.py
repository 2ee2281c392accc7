"""Small shared building blocks: settings, database session, errors, money and time helpers."""
