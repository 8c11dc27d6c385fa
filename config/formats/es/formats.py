# 2 dic 2026; 2 dic 2026, 14:30 ("b": the month's lowercase abbreviation, as Spanish writes it).
DATE_FORMAT = "j b Y"
SHORT_DATE_FORMAT = "j b Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "j b Y, H:i"
SHORT_DATETIME_FORMAT = "j b Y, H:i"
