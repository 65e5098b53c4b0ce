"""The Aegis loop: measure a job's data, triage, score, propose spend, gate it on a person."""
