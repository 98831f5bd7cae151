"""DPO Intake: turns e-mailed GDPR requests into tracked cases with a legal deadline."""

__version__ = "0.1.0"
