"""Helpers for the browser journeys: each module reads one signal of the running stack."""
