"""The one time zone of the legal clock: Europe/Brussels."""

from zoneinfo import ZoneInfo

BRUSSELS = ZoneInfo("Europe/Brussels")
