"""Assessments: quizzes, exams and assignments, attempts and grading, and certificates (issue #7)."""
