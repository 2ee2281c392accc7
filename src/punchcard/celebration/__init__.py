"""Birthdays and enrolment anniversaries: a gift once a year, granted by the scheduled jobs."""
