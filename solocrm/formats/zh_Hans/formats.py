"""Simplified Chinese: 2026年12月7日 (long), 2026-12-07 (short, GB/T 7408), 2026年12月7日 星期一.

Numbers are grouped by thousands with a comma (50,190), as Chinese business documents do; Django's
own zh_Hans formats group by ten thousands with no separator at all, which reads "50190"."""

DATE_FORMAT = "Y年n月j日"
SHORT_DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y年n月j日 H:i"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
TIME_FORMAT = "H:i"
YEAR_MONTH_FORMAT = "Y年n月"
MONTH_DAY_FORMAT = "n月j日"
# Not a Django setting: read by solocrm.lib.l10n.weekday_date (the Today page's heading).
WEEKDAY_DATE_FORMAT = "Y年n月j日 l"

DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3

# The first input format is also how a date field writes its value: <input type="date"> needs
# ISO 8601 (Django's zh_Hans starts with 2016/09/05, which the browser's date picker rejects).
DATE_INPUT_FORMATS = [
    "%Y-%m-%d",  # '2016-09-05'
    "%Y/%m/%d",  # '2016/09/05'
    "%Y年%m月%d日",  # '2016年9月5日'
]
DATETIME_INPUT_FORMATS = [
    "%Y-%m-%d %H:%M:%S",  # '2016-09-05 20:45:29'
    "%Y-%m-%d %H:%M:%S.%f",  # '2016-09-05 20:45:29.000200'
    "%Y-%m-%d %H:%M",  # '2016-09-05 20:45'
    "%Y-%m-%dT%H:%M",  # '2016-09-05T20:45' (<input type="datetime-local">)
    "%Y/%m/%d %H:%M:%S",  # '2016/09/05 20:45:29'
    "%Y/%m/%d %H:%M",  # '2016/09/05 20:45'
    "%Y年%m月%d日 %H:%M",  # '2016年9月5日 20:45'
]
