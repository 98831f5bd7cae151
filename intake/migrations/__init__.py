"""Alembic migrations for the DPO Intake schema."""
