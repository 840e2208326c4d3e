"""Instructor tooling: the course's nbgrader configuration and grading commands."""
