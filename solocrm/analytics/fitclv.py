"""Django-free core of ``solocrm analytics fit-clv FILE``: read a transaction file, fit, report.

:func:`read_transactions` reads CSV (with a header, columns by name), headerless delimited or
whitespace-separated text (columns by 1-based number, e.g. lifetimes' ``CDNOW_sample.txt``) and
XLSX, and turns every problem into a :class:`TransactionsFileError` whose message names the line
and column and says what to do. :func:`fit_clv_report` fits BG/NBD and Gamma-Gamma and returns a
JSON-safe dict for the command to print.

References
----------
.. [1] Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting Your Customers" the Easy
   Way: An Alternative to the Pareto/NBD Model. *Marketing Science* 24(2), 275-284 (the
   calibration/holdout comparison by number of repeat purchases is their Figure 3).
.. [2] Fader, P. S. & Hardie, B. G. S. (2013). The Gamma-Gamma Model of Monetary Value.
   http://brucehardie.com/notes/025/ (the frequency/value correlation check).
"""

from __future__ import annotations

import codecs
import datetime
import io
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .clv import BetaGeoModel, GammaGammaModel, customer_lifetime_value
from .summary import DAYS_PER_UNIT, summarize

EXCEL_SUFFIXES = (".xlsx", ".xlsm")
CANDIDATE_SEPARATORS = (",", ";", "\t", "|")
HOLDOUT_FREQUENCY_CAP = 7  # the last row of the table groups 7 and more repeat purchases
CORRELATION_WARNING = 0.3
SNIFF_BYTES = 1 << 16  # the separator is guessed from the first line found in this much of the file


class TransactionsFileError(ValueError):
    """A transaction file cannot be used; the message says where (line, column) and what to do."""


def read_transactions(
    path: str | Path,
    *,
    customer_col: str | int,
    date_col: str | int,
    amount_col: str | int | None = None,
    date_format: str | None = None,
    sep: str | None = None,
    encoding: str | None = None,
) -> pd.DataFrame:
    """Read a transaction file into a DataFrame with columns ``customer``, ``date`` [, ``amount``].

    Parameters
    ----------
    path : str or Path
        CSV/text file, or an ``.xlsx`` workbook (first sheet).
    customer_col, date_col, amount_col : str or int
        Columns by header name, or all by 1-based number (an ``int`` or a string of digits) for a
        file without a header line. ``amount_col`` is optional (no ``amount`` column then).
    date_format : str, optional
        ``strptime`` format of the dates, e.g. ``%Y%m%d``; guessed from the data when omitted.
    sep : str, optional
        Column separator; guessed from the first line when omitted (``, ; tab |``, otherwise
        runs of white space).
    encoding : str, optional
        Text encoding; UTF-8 (with or without a byte-order mark) when omitted.

    Returns
    -------
    pandas.DataFrame
        ``customer`` (str), ``date`` (datetime64), ``amount`` (float, >= 0) in file order.

    Notes
    -----
    A clean delimited text file (every cell present and valid) is read by the C parser straight
    into numbers and strings, and each distinct date is parsed once (a file spans a few hundred
    days, not millions), so a million customers take about a second. Anything unusual (a blank
    line of separators, an empty customer, a bad date or amount, an odd separator or encoding)
    sends the file through the careful reader, which explains the first problem with its line and
    column.

    Raises
    ------
    TransactionsFileError
        Missing file or column, undecodable text, unparsable date, missing or negative amount,
        no data rows.
    """
    path = Path(path)
    wanted = {"customer": customer_col, "date": date_col}
    if amount_col is not None:
        wanted["amount"] = amount_col
    positions = _positions(wanted)
    header = positions is None
    if path.suffix.lower() not in EXCEL_SUFFIXES:
        clean = _read_clean_text(path, wanted, positions, date_format, sep, encoding)
        if clean is not None:
            return clean
    raw = (
        _read_excel(path, header)
        if path.suffix.lower() in EXCEL_SUFFIXES
        else _read_text(path, header, sep, encoding)
    )
    # The number of the file's line (or sheet row) each data row came from, for error messages.
    raw.index = raw.index + (2 if header else 1)
    columns = {key: _as_text(column) for key, column in _select_columns(raw, wanted, positions, path).items()}
    blank = np.logical_and.reduce([column.eq("").to_numpy() for column in columns.values()])
    if blank.all():
        raise TransactionsFileError(f"{path.name} has no transactions (no data lines)")
    columns = {key: column[~blank] for key, column in columns.items()}
    frame = pd.DataFrame({"customer": _customers(columns["customer"], wanted["customer"])})
    frame["date"] = _dates(columns["date"], wanted["date"], date_format)
    if "amount" in columns:
        frame["amount"] = _amounts(columns["amount"], wanted["amount"])
    return frame.reset_index(drop=True)


def fit_clv_report(
    transactions: pd.DataFrame,
    *,
    calibration_end: Any = None,
    time_unit: str = "W",
    observation_end: Any = None,
    months: int = 12,
    discount_rate_yearly: float = 0.10,
    top: int = 10,
) -> dict[str, Any]:
    """Fit BG/NBD (and Gamma-Gamma when there are amounts) and report, as a JSON-safe dict.

    Parameters
    ----------
    transactions : pandas.DataFrame
        Columns ``customer``, ``date`` and optionally ``amount`` (:func:`read_transactions`).
    calibration_end : date-like, optional
        Hold out the transactions after this day: the model is also fitted on the calibration
        period alone and its forecast of the holdout period is compared with what happened.
    time_unit : {"W", "D"}
        Unit of recency, T and the BG/NBD ``alpha`` (weeks of 7 days, or days).
    observation_end : date-like, optional
        Last day of data; the last transaction day when omitted.
    months, discount_rate_yearly : int, float
        CLV horizon and yearly discount rate.
    top : int
        Number of customers listed in ``top_customers``.

    Returns
    -------
    dict
        ``data`` (counts and dates), ``bgnbd`` (parameters and log-likelihood, fitted on all the
        data up to ``observation_end``), ``gamma_gamma`` (parameters, or ``fitted: False`` and the
        ``reason``), ``holdout`` (``None`` without ``calibration_end``), ``clv`` (totals) and
        ``top_customers`` (by CLV, or by expected purchases when spend could not be modelled).

    Raises
    ------
    ValueError
        When the BG/NBD model cannot be fitted (e.g. no customer bought twice); the message is
        meant for the user.
    """
    if transactions.empty:
        raise ValueError("there are no transactions to fit")
    end = pd.Timestamp(observation_end) if observation_end is not None else transactions["date"].max()
    amounts = transactions["amount"] if "amount" in transactions.columns else None
    summary, ids = _summarize(transactions, amounts, observation_end=end, time_unit=time_unit)
    bg = BetaGeoModel().fit(summary["frequency"], summary["recency"], summary["T"])
    gg, gamma_gamma = _fit_gamma_gamma(summary)
    report: dict[str, Any] = {
        "data": _data_section(transactions, summary, end, time_unit),
        "bgnbd": _model_section(bg),
        "gamma_gamma": gamma_gamma,
        "holdout": None,
    }
    if calibration_end is not None:
        report["holdout"] = _holdout_section(transactions, amounts, calibration_end, end, time_unit)
    report.update(_clv_sections(bg, gg, summary, ids, months, discount_rate_yearly, time_unit, top))
    return report


def _summarize(
    transactions: pd.DataFrame, amounts: pd.Series | None, **options: Any
) -> tuple[pd.DataFrame, np.ndarray]:
    """:func:`summarize` indexed by customer number, and the customer id of each number.

    The customers are numbered in order of appearance (one hashing pass) so that the summary is
    built on dense integers, and the ids are only looked up for the customers that are shown:
    sorting or indexing a million string ids would cost more than the whole fit.
    """
    codes, ids = pd.factorize(transactions["customer"].to_numpy())
    summary = summarize(codes, transactions["date"], amounts, **options)
    return summary, np.asarray(ids, dtype=object)


def _top(scores: pd.DataFrame, column: str, top: int, ids: np.ndarray) -> pd.DataFrame:
    """The ``top`` rows by ``column``, ties by customer id, indexed by customer id."""
    candidates = scores.nlargest(top, column, keep="all")
    candidates.index = pd.Index(ids[candidates.index.to_numpy()], name="customer")
    ranked = candidates.assign(_id=candidates.index).sort_values(
        [column, "_id"], ascending=[False, True], kind="stable"
    )
    return ranked.head(top).drop(columns="_id")


def _positions(wanted: dict[str, str | int]) -> dict[str, int] | None:
    """0-based positions when every column is given by number, ``None`` when all by name."""
    numeric = {key: isinstance(spec, int) or str(spec).strip().isdigit() for key, spec in wanted.items()}
    if not any(numeric.values()):
        return None
    if not all(numeric.values()):
        raise TransactionsFileError(
            "give all columns by header name, or all by number (1 = first column) for a file without a header"
        )
    positions = {key: int(spec) - 1 for key, spec in wanted.items()}
    if min(positions.values()) < 0:
        raise TransactionsFileError("column numbers start at 1")
    return positions


def _read_text(path: Path, header: bool, sep: str | None, encoding: str | None) -> pd.DataFrame:
    text = _decode(path, encoding)
    separator = _separator(text, sep)
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=separator,
            header=0 if header else None,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
            engine="python" if len(separator) > 1 and separator != r"\s+" else "c",
        )
    except pd.errors.EmptyDataError:
        raise TransactionsFileError(f"{path.name} is empty") from None
    except pd.errors.ParserError as error:
        raise TransactionsFileError(
            f"{path.name} cannot be read as a table: {error}. Check the separator (--sep) and the quoting"
        ) from None
    if not isinstance(frame.index, pd.RangeIndex):
        # pandas takes the first fields as row labels when every line has more than the header
        raise TransactionsFileError(
            f"the lines of {path.name} have more fields than its header line. Check the separator "
            "(--sep) and the quoting"
        )
    return frame


def _separator(text: str, sep: str | None) -> str:
    """The given separator, or the likeliest one on the first non-blank line of ``text``."""
    if sep:
        return sep
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    separator = max(CANDIDATE_SEPARATORS, key=first_line.count)
    if first_line.count(separator) == 0:
        return r"\s+"  # e.g. CDNOW_sample.txt: columns aligned with spaces
    return separator


def _read_clean_text(
    path: Path,
    wanted: dict[str, str | int],
    positions: dict[str, int] | None,
    date_format: str | None,
    sep: str | None,
    encoding: str | None,
) -> pd.DataFrame | None:
    """Read a clean delimited file fast, or return ``None`` to leave it to the careful reader.

    ``None`` means only "not the common case" (unusual separator, a problem somewhere, ...): the
    careful reader then gives the same result or the message that explains the problem.
    """
    separator = _sniffed_separator(path, sep, encoding)
    if separator is None or len(separator) != 1:
        return None
    options: dict[str, Any] = {
        "sep": separator,
        "encoding": encoding or "utf-8-sig",
        "header": None if positions is not None else 0,
        "keep_default_na": False,
        "na_filter": False,
        "engine": "c",
    }
    try:
        columns = pd.read_csv(path, nrows=0, **options).columns
        names = positions if positions is not None else _names_in_header(columns, wanted)
        if names is None or len(set(names.values())) != len(names) or not set(names.values()) <= set(columns):
            return None
        # Every column is read (not only the wanted ones): with usecols the C parser would let a
        # line with too many fields pass, which the careful reader rejects.
        dtypes: dict[Any, Any] = dict.fromkeys(columns, object)
        if "amount" in names:
            dtypes[names["amount"]] = np.float64
        raw = pd.read_csv(path, dtype=dtypes, **options)
    except (ValueError, OSError, LookupError, KeyError, pd.errors.ParserError):
        # a bad number or byte, too few columns, quoting...: the careful reader says where
        return None
    if not isinstance(raw.index, pd.RangeIndex):  # more fields than header names on every line
        return None
    if raw.empty:
        return None
    customers = _clean_customers(raw[names["customer"]].to_numpy(object))
    dates = _clean_dates(raw[names["date"]].to_numpy(object), date_format)
    if customers is None or dates is None:
        return None
    frame = pd.DataFrame({"customer": customers, "date": dates})
    if "amount" in names:
        amounts = raw[names["amount"]].to_numpy(np.float64)
        if not (np.isfinite(amounts).all() and (amounts >= 0).all()):
            return None
        frame["amount"] = amounts
    return frame


def _sniffed_separator(path: Path, sep: str | None, encoding: str | None) -> str | None:
    """The separator :func:`_read_text` would use, from the start of the file only."""
    if sep:
        return sep
    try:
        with path.open("rb") as file:
            head = file.read(SNIFF_BYTES)
        # incremental: a character cut in two at the end of the sample is not an error
        text = codecs.getincrementaldecoder(encoding or "utf-8-sig")().decode(head, final=False)
    except (OSError, LookupError, UnicodeDecodeError):
        return None
    if len(head) == SNIFF_BYTES and not any(line.strip() for line in text.splitlines()[:-1]):
        return None  # no complete non-blank line in the sample
    return _separator(text, None)


def _names_in_header(columns: pd.Index, wanted: dict[str, str | int]) -> dict[str, Any] | None:
    """The header's own column names for the wanted columns (matched as :func:`_select_columns`)."""
    by_name = {str(name).strip().casefold(): name for name in columns}
    names = {key: by_name.get(str(spec).strip().casefold()) for key, spec in wanted.items()}
    return None if None in names.values() else names


def _clean_customers(values: np.ndarray) -> np.ndarray | None:
    """The stripped customer ids; ``None`` when one is empty."""
    stripped = [value.strip() for value in values]  # str.strip returns the same object when clean
    if not all(stripped):
        return None
    return np.array(stripped, dtype=object)


def _clean_dates(values: np.ndarray, date_format: str | None) -> pd.DatetimeIndex | None:
    """Parse each distinct date once (a file has a few hundred days, not millions); ``None``
    when one does not parse. The format is inferred from the first row, as for the whole column."""
    codes, uniques = pd.factorize(values)
    stripped = pd.Index([value.strip() for value in uniques], dtype=object)
    try:
        parsed = pd.DatetimeIndex(pd.to_datetime(stripped, format=date_format, errors="coerce"))
    except (ValueError, TypeError):
        return None
    if parsed.hasnans:
        return None
    if parsed.tz is not None:
        parsed = parsed.tz_localize(None)
    return parsed.take(codes)


def _decode(path: Path, encoding: str | None) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise TransactionsFileError(f"{path} does not exist") from None
    except OSError as error:
        raise TransactionsFileError(f"{path} cannot be read: {error.strerror}") from None
    name = encoding or "utf-8-sig"
    try:
        return data.decode(name)
    except LookupError:
        raise TransactionsFileError(f"unknown encoding {encoding!r}") from None
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise TransactionsFileError(
            f"line {line} of {path.name} is not valid {name} text (byte 0x{data[error.start]:02x}); "
            "pass the file's encoding, e.g. --encoding cp1252 or --encoding latin-1"
        ) from None


def _read_excel(path: Path, header: bool) -> pd.DataFrame:
    try:
        sheet = pd.read_excel(path, header=0 if header else None, dtype=object, engine="openpyxl")
    except FileNotFoundError:
        raise TransactionsFileError(f"{path} does not exist") from None
    except (zipfile.BadZipFile, ValueError, KeyError) as error:
        raise TransactionsFileError(f"{path.name} is not a readable XLSX workbook ({error})") from None
    return sheet.fillna("")


def _select_columns(
    raw: pd.DataFrame, wanted: dict[str, str | int], positions: dict[str, int] | None, path: Path
) -> dict[str, pd.Series]:
    if positions is not None:
        too_far = {key: spec for key, spec in wanted.items() if positions[key] >= raw.shape[1]}
        if too_far:
            key, spec = next(iter(too_far.items()))
            raise TransactionsFileError(
                f"the {key} column is number {spec} but line {raw.index[0]} of {path.name} has only "
                f"{raw.shape[1]} columns; check --sep"
            )
        return {key: raw.iloc[:, position] for key, position in positions.items()}
    by_name = {str(name).strip().casefold(): name for name in raw.columns}
    selected = {}
    for key, spec in wanted.items():
        name = by_name.get(str(spec).strip().casefold())
        if name is None:
            available = ", ".join(repr(str(c)) for c in raw.columns)
            raise TransactionsFileError(
                f"{path.name} has no column {spec!r} (its header has {available}); for a file without a "
                "header line give the columns by number"
            )
        selected[key] = raw[name]
    return selected


def _as_text(column: pd.Series) -> pd.Series:
    """Cells as stripped text; spreadsheet dates stay datetimes (they need no parsing)."""
    if column.dtype == object:
        # A number such as 19970101 from a spreadsheet is a date written as digits: keep the digits.
        return column.map(lambda v: v if isinstance(v, datetime.date) else str(v).strip())
    return column.astype(str).str.strip()


def _customers(column: pd.Series, spec: str | int) -> pd.Series:
    customers = column.astype(str)
    empty = customers == ""
    if empty.any():
        raise TransactionsFileError(f"line {empty.idxmax()}, column {spec}: the customer is empty")
    return customers


def _dates(column: pd.Series, spec: str | int, date_format: str | None) -> pd.Series:
    is_date = column.map(lambda v: isinstance(v, datetime.date)) if column.dtype == object else None
    try:
        if is_date is None or not is_date.any():
            dates = pd.to_datetime(column, format=date_format, errors="coerce")
        else:  # a spreadsheet column mixing real dates and dates typed as text
            dates = pd.Series(pd.NaT, index=column.index, dtype="datetime64[us]")
            dates[is_date] = pd.to_datetime(column[is_date].tolist())
            dates[~is_date] = pd.to_datetime(column[~is_date], format=date_format, errors="coerce")
    except (ValueError, TypeError) as error:
        raise TransactionsFileError(f"column {spec}: {error}") from None
    bad = dates.isna()
    if bad.any():
        line = bad.idxmax()
        hint = (
            f"expected the format {date_format}"
            if date_format
            else "give the format with --date-format, e.g. %Y%m%d or %d/%m/%Y"
        )
        raise TransactionsFileError(f"line {line}, column {spec}: {column[line]!r} is not a date; {hint}")
    if getattr(dates.dt, "tz", None) is not None:
        dates = dates.dt.tz_localize(None)
    return dates


def _amounts(column: pd.Series, spec: str | int) -> pd.Series:
    amounts = pd.to_numeric(column, errors="coerce").astype(np.float64)
    bad = ~np.isfinite(amounts)
    if bad.any():
        line = bad.idxmax()
        raise TransactionsFileError(
            f"line {line}, column {spec}: {column[line]!r} is not an amount; write plain numbers with a "
            "decimal point (no currency symbol or thousands separator)"
        )
    negative = amounts < 0
    if negative.any():
        line = negative.idxmax()
        raise TransactionsFileError(
            f"line {line}, column {spec}: negative amount {amounts[line]}; refunds are not purchases: "
            "subtract them from the purchase they refund, or remove the line"
        )
    return amounts


def _fit_gamma_gamma(summary: pd.DataFrame) -> tuple[GammaGammaModel | None, dict[str, Any]]:
    if "monetary_value" not in summary.columns:
        return None, {"fitted": False, "reason": "the file has no amount column"}
    repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    if len(repeat) < 2:
        return None, {
            "fitted": False,
            "reason": "fewer than two repeat buyers with a positive spend: the spend model needs "
            "repeat purchases",
        }
    with np.errstate(invalid="ignore", divide="ignore"):  # all the same frequency: r is undefined (NaN)
        correlation = float(np.corrcoef(repeat["frequency"], repeat["monetary_value"])[0, 1])
    gg = GammaGammaModel().fit(repeat["frequency"], repeat["monetary_value"])
    section = {"fitted": True, **_model_section(gg), "frequency_value_correlation": _json_float(correlation)}
    if abs(correlation) >= CORRELATION_WARNING:
        section["warning"] = (
            f"spend and purchase frequency are correlated (r = {correlation:.2f}); the Gamma-Gamma model "
            "assumes they are independent, so CLV may be biased"
        )
    if gg.q_ <= 1.0:
        return None, {
            **section,
            "fitted": False,
            "reason": f"q = {gg.q_:.3g} <= 1: the fitted spend distribution has no finite mean (a few "
            "very large purchases?); CLV is not computed",
        }
    return gg, section


def _model_section(model: BetaGeoModel | GammaGammaModel) -> dict[str, Any]:
    stored = model.to_dict()
    return {
        "params": {k: _json_float(v) for k, v in stored["params"].items()},
        "log_likelihood": _json_float(stored["log_likelihood"]),
        "customers": stored["n_customers"],
    }


def _data_section(
    transactions: pd.DataFrame, summary: pd.DataFrame, end: pd.Timestamp, unit: str
) -> dict[str, Any]:
    return {
        "customers": len(summary),
        "transactions": len(transactions),
        "repeat_buyers": int((summary["frequency"] > 0).sum()),
        "first_date": transactions["date"].min().date().isoformat(),
        "last_date": transactions["date"].max().date().isoformat(),
        "observation_end": end.date().isoformat(),
        "time_unit": {"W": "weeks", "D": "days"}[unit],
    }


def _holdout_section(
    transactions: pd.DataFrame, amounts: pd.Series | None, calibration_end: Any, end: pd.Timestamp, unit: str
) -> dict[str, Any]:
    """Fit on the calibration period, forecast the holdout period, compare (Fig. 3 of [1])."""
    split, _ids = _summarize(
        transactions, amounts, observation_end=end, calibration_end=calibration_end, time_unit=unit
    )
    bg = BetaGeoModel().fit(split["frequency"], split["recency"], split["T"])
    duration = float(split["duration_holdout"].iloc[0])
    predicted = bg.expected_purchases(duration, split["frequency"], split["recency"], split["T"])
    actual = split["frequency_holdout"].to_numpy()
    group = np.minimum(split["frequency"].to_numpy(), HOLDOUT_FREQUENCY_CAP)
    table = [
        {
            "frequency": f"{k}+" if k == HOLDOUT_FREQUENCY_CAP else str(k),
            "customers": int((group == k).sum()),
            "actual_mean": _json_float(actual[group == k].mean()),
            "predicted_mean": _json_float(predicted[group == k].mean()),
        }
        for k in range(HOLDOUT_FREQUENCY_CAP + 1)
        if (group == k).any()
    ]
    return {
        "calibration_end": pd.Timestamp(calibration_end).date().isoformat(),
        "duration": duration,
        "bgnbd_calibration": _model_section(bg),
        "customers": len(split),
        "actual_repeat_purchases": int(actual.sum()),
        "predicted_repeat_purchases": _json_float(predicted.sum()),
        "mean_absolute_error": _json_float(np.abs(actual - predicted).mean()),
        "by_frequency": table,
    }


def _clv_sections(
    bg: BetaGeoModel,
    gg: GammaGammaModel | None,
    summary: pd.DataFrame,
    ids: np.ndarray,
    months: int,
    rate: float,
    unit: str,
    top: int,
) -> dict[str, Any]:
    x, t_x, age = (summary[c].to_numpy(np.float64) for c in ("frequency", "recency", "T"))
    horizon = months * (365.25 / 12) / DAYS_PER_UNIT[unit]
    scores = pd.DataFrame(
        {
            "frequency": summary["frequency"],
            "recency": summary["recency"],
            "T": summary["T"],
            "p_alive": bg.probability_alive(x, t_x, age),
            "expected_purchases": bg.expected_purchases(horizon, x, t_x, age),
        },
        index=summary.index,
    )
    clv_section: dict[str, Any] = {"months": months, "discount_rate_yearly": rate}
    if gg is None:
        clv_section["reason"] = "no spend model: customers are ranked by expected purchases"
        ranked = _top(scores, "expected_purchases", top, ids)
    else:
        scores["monetary_value"] = summary["monetary_value"]
        scores["clv"] = customer_lifetime_value(
            bg,
            gg,
            x,
            t_x,
            age,
            summary["monetary_value"].to_numpy(),
            months=months,
            discount_rate_yearly=rate,
            time_unit=unit,
        )
        clv_section.update(total=_json_float(scores["clv"].sum()), mean=_json_float(scores["clv"].mean()))
        ranked = _top(scores, "clv", top, ids)
    rows = [
        {"customer": str(customer), **{k: _json_value(v) for k, v in row.items()}}
        for customer, row in zip(ranked.index, ranked.to_dict("records"), strict=True)
    ]
    return {"clv": clv_section, "top_customers": rows}


def _json_float(value: float) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None


def _json_value(value: Any) -> Any:
    if isinstance(value, np.integer | int) and not isinstance(value, bool):
        return int(value)
    return _json_float(value)
