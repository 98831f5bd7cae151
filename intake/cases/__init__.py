"""Cases: database models, references, the legal clock and the case workflow."""
