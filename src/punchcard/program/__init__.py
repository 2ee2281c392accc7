"""Programs as files: parse, validate and version a loyalty program definition."""
