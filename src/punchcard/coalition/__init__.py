"""Coalitions of brands: members link their accounts across brands and move points between them at published
rates; the brands settle what they owe each other."""
