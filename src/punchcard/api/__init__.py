"""The HTTP boundary: app assembly, dependencies and the error format."""
