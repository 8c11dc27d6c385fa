# 2 ديسمبر 2026; 2 ديسمبر 2026، 14:30. Arabic has no month abbreviations: the month's name, which
# also keeps the day, month and year in right-to-left order without any isolation.
DATE_FORMAT = "j F Y"
SHORT_DATE_FORMAT = "j F Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "j F Y، H:i"
SHORT_DATETIME_FORMAT = "j F Y، H:i"
