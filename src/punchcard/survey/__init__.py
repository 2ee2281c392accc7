"""Surveys (NPS and CES): who is asked when, their answers, and what the answers add up to."""
