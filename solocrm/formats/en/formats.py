"""English: day-month-year everywhere (unambiguous for US and UK readers), a 24-hour clock.

Long: 7 December 2026. Short (tables, lists): 7 Dec 2026. With the weekday: Monday, 7 December 2026.
Numbers: 50,190.5."""

DATE_FORMAT = "j F Y"
SHORT_DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j F Y, H:i"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
TIME_FORMAT = "H:i"
YEAR_MONTH_FORMAT = "F Y"
MONTH_DAY_FORMAT = "j F"
# Not a Django setting: read by solocrm.lib.l10n.weekday_date (the Today page's heading).
WEEKDAY_DATE_FORMAT = "l, j F Y"

DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
