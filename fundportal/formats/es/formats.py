"""Spanish dates: one format, long or short ("5 dic 2026", "5 dic 2026, 20:30"); never
"05/12/2026", which English readers take for May 12."""

DATE_FORMAT = "j b Y"
SHORT_DATE_FORMAT = DATE_FORMAT
DATETIME_FORMAT = "j b Y, H:i"
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
