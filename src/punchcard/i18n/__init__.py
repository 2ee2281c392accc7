"""What members read, in their language: message catalogues, plural forms, and numbers, money and dates via Babel."""
