"""English dates: one format, long or short ("Dec 5, 2026", "Dec 5, 2026, 8:30 PM")."""

DATE_FORMAT = "M j, Y"
SHORT_DATE_FORMAT = DATE_FORMAT
DATETIME_FORMAT = "M j, Y, g:i A"
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
