"""The ground floor: ORM models, database engine and sessions, and the Brussels time zone."""
