"""The fast path of `read_transactions` (clean delimited files) gives exactly what the careful
reader gives, and leaves every file with a problem to the careful reader and its messages."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from solocrm.analytics import fitclv
from solocrm.analytics.fitclv import TransactionsFileError, fit_clv_report, read_transactions

CLEAN_FILES = {
    "plain": ("customer,date,amount\nann,2024-01-03,10.5\nbob,2024-01-04,7\nann,2024-02-01,0\n", None),
    "bom, spaces, crlf and quotes": (
        '\ufeffClient , Day,Total\r\n" ann ", 2024-01-03 ,10.5\r\n'
        'bob,2024-01-04,  7\r\n"ann",2024-02-01,1e1\r\n',
        None,
    ),
    "semicolons and a blank line": ("client;day;total\nann;2024-01-03;1.5\n\nbob;2024-01-04;2\n", None),
    "cp1252": ("client,day,total\nJosé,2024-01-03,12\nRenée,2024-01-05,3\n".encode("cp1252"), "cp1252"),
    "times and zones": ("c,d,a\nann,2024-01-03T10:00:00+02:00,1\nbob,2024-01-04T23:30:00+02:00,2\n", None),
}
COLUMNS = {
    "plain": ("customer", "date", "amount"),
    "bom, spaces, crlf and quotes": ("client", "day", "total"),
    "semicolons and a blank line": ("client", "day", "total"),
    "cp1252": ("1", "2", "3"),
    "times and zones": ("c", "d", "a"),
}


def write(tmp_path: Path, content: str | bytes) -> Path:
    path = tmp_path / "orders.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", newline="")
    return path


def careful(path: Path, **options) -> pd.DataFrame:
    """The careful reader alone (the fast path switched off)."""
    original = fitclv._read_clean_text
    fitclv._read_clean_text = lambda *args: None
    try:
        return read_transactions(path, **options)
    finally:
        fitclv._read_clean_text = original


@pytest.mark.parametrize("name", sorted(CLEAN_FILES))
def test_a_clean_file_reads_the_same_through_the_fast_path(tmp_path, name, monkeypatch):
    content, encoding = CLEAN_FILES[name]
    if name == "cp1252":  # headerless: the first line is data
        content = content.split(b"\n", 1)[1]
    path = write(tmp_path, content)
    customer, date, amount = COLUMNS[name]
    options = {"customer_col": customer, "date_col": date, "amount_col": amount, "encoding": encoding}
    expected = careful(path, **options)

    def no_careful_reader(*args):
        raise AssertionError("a clean file should not need the careful reader")

    monkeypatch.setattr(fitclv, "_read_text", no_careful_reader)
    fast = read_transactions(path, **options)
    pd.testing.assert_frame_equal(fast, expected, check_dtype=False)
    assert fast["customer"].map(type).eq(str).all()
    assert fast["date"].dtype == expected["date"].dtype


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("client,day,total\nann,2024-01-01,5\n,,\n", None),  # a line of separators is skipped
        ("client,day,total\nann,2024-01-01,5\nbob,2024-01-02,-3\n", "line 3, column total: negative amount"),
        ("client,day,total\nann,2024-01-01,5\nbob,2024-13-45,3\n", "line 3, column day: '2024-13-45'"),
        (
            "client,day,total\nann,2024-01-01,5\n ,2024-01-02,3\n",
            "line 3, column client: the customer is empty",
        ),
        ("client,day,total\nann,2024-01-01,nan\n", "line 2, column total: 'nan' is not an amount"),
        ("client,day,total\nann,2024-01-01,5\nbob,2024-01-02,5,9\n", "Expected 3 fields in line 3, saw 4"),
        ("client,day,total\nann,2024-01-01,5,9\n", "have more fields than its header line"),
        (b"client,day\n\xe9ric,2024-01-01\n", "line 2 of orders.csv is not valid utf-8-sig text"),
    ],
)
def test_a_file_with_a_problem_goes_to_the_careful_reader(tmp_path, content, message):
    path = write(tmp_path, content)
    amount = "total" if b"total" in (content if isinstance(content, bytes) else content.encode()) else None
    options = {"customer_col": "client", "date_col": "day", "amount_col": amount}
    if message is None:
        assert read_transactions(path, **options)["customer"].tolist() == ["ann"]
        return
    with pytest.raises(TransactionsFileError, match=message):
        read_transactions(path, **options)


def test_top_customers_with_equal_values_are_listed_by_customer_id():
    # Customers are numbered in order of appearance for speed; ties must still read by id.
    tied = ("zoe", "bob", "amy", "kim")  # the same purchases: the same scores
    rows = [
        (c, d, a) for c in tied for d, a in (("2024-01-01", 8.0), ("2024-03-01", 10.0), ("2024-06-01", 12.0))
    ]
    rows += [("ivy", "2024-02-01", 20.0), ("ivy", "2024-02-20", 30.0)]
    rows += [("max", f"2024-0{m}-15", 5.0 + m) for m in range(1, 7)]
    rows += [("solo", "2024-02-01", 9.0)]
    transactions = pd.DataFrame(rows, columns=["customer", "date", "amount"]).assign(
        date=lambda frame: pd.to_datetime(frame["date"])
    )
    report = fit_clv_report(transactions, top=7)
    ranked = [row["customer"] for row in report["top_customers"]]
    assert [c for c in ranked if c in tied] == ["amy", "bob", "kim", "zoe"]
