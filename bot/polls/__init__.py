"""Consultations: polls created by coordinators, answered by members, counted with care."""
