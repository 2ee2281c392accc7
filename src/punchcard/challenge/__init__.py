"""Challenges, badges, streaks and leaderboards: goals that turn buying again into a game."""
