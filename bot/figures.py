"""`intake-bot report|export`: figures for the organizations and the practice's records.

Neither shows anything of what a client wrote, nor who they are."""

import argparse
import csv
import sys
from collections import Counter
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.config import Settings
from bot.errors import fail
from bot.wiring import open_store
from storage import BookingStatus

SMALL = 5  # a count below this, but not 0, is shown as "<5": nobody can be singled out
# The report's columns: (CSV name, heading).
# Bookings that will not take place: cancelled, declined, or expired unconfirmed.
NOT_HELD = (BookingStatus.CANCELLED, BookingStatus.DECLINED, BookingStatus.EXPIRED)
COLUMNS = (
    ("organization", "organization"),
    ("name", "name"),
    ("intakes", "intakes started"),
    ("bookings", "bookings"),
    ("cancelled", "cancelled, declined or expired"),
    ("past_confirmed", "took place (not marked)"),
    ("held", "held"),
    ("no_show", "no-shows"),
)
NOT_MARKED = (
    "took place, not marked: confirmed and its time has passed, but nobody marked it held or "
    "a no-show in the group (see README)"
)
EXPORT_COLUMNS = (
    "reference",
    "date",
    "time",
    "way",
    "language",
    "organization",
    "status",
    "consultant",
)


def add_figure_commands(commands) -> None:
    """Add `report` and `export` to the `intake-bot` parser."""
    report = commands.add_parser(
        "report",
        help="per organization, the bookings of one month (counts under 5 shown as <5)",
        description="Per organization, the intakes started in MONTH (the practice's time "
        "zone: a client gave the organization's code), and the bookings for a time in MONTH, "
        "whatever became of them; of those, the cancelled, declined or expired ones, "
        "the confirmed ones whose time has passed, the consultations the staff marked "
        "held, and the no-shows. A count from 1 to 4 is shown as <5, so that nobody can be "
        "singled out.",
    )
    report.add_argument("--month", required=True, help="YYYY-MM, e.g. 2026-11")
    report.add_argument("--csv", action="store_true", help="comma-separated, with a header")
    report.set_defaults(action=_report)

    export = commands.add_parser("export", help="write the practice's records as CSV")
    what = export.add_subparsers(required=True, metavar="WHAT")
    bookings = what.add_parser(
        "bookings",
        help="bookings for a time between two dates, as CSV",
        description="One line per booking for a time from FROM to TO (both days included, in "
        "the practice's time zone): " + ", ".join(EXPORT_COLUMNS) + ". No client's name, "
        "contact details or answers.",
    )
    bookings.add_argument("--from", dest="start", metavar="FROM", required=True, help="YYYY-MM-DD")
    bookings.add_argument(
        "--to", dest="end", metavar="TO", required=True, help="YYYY-MM-DD, included"
    )
    bookings.add_argument(
        "--output", metavar="FILE", help="write to this file instead of the screen"
    )
    bookings.set_defaults(action=_export_bookings)


def _report(args: argparse.Namespace, settings: Settings) -> int:
    try:
        first = datetime.strptime(args.month, "%Y-%m").date()
    except ValueError:
        return fail(f"--month: expected a month like 2026-11, not {args.month!r}")
    after = (first + timedelta(days=31)).replace(day=1)
    store = open_store(settings)
    tz = ZoneInfo(settings.timezone)
    now = store.clock()
    names = {org.code: org.name for org in store.list_orgs()}
    counts: dict[str, Counter] = {code: Counter() for code in names}
    for code, started in store.intakes_started(args.month).items():
        counts.setdefault(code, Counter())["intakes"] = started
    for booking in store.booking_records(_midnight(first, tz), _midnight(after, tz)):
        count = counts.setdefault(booking.org_code, Counter())
        count["bookings"] += 1
        if booking.status in NOT_HELD:
            count["cancelled"] += 1
        ended = booking.start + timedelta(minutes=booking.minutes) <= now
        if booking.status == BookingStatus.CONFIRMED and ended:
            count["past_confirmed"] += 1
        count["held"] += booking.status == BookingStatus.ATTENDED  # as marked in the group
        count["no_show"] += booking.status == BookingStatus.NO_SHOW
    rows = [
        [code, names.get(code, ""), *(_shown(count[key]) for key, _h in COLUMNS[2:])]
        for code, count in sorted(counts.items())
    ]
    if args.csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerows([[key for key, _h in COLUMNS], *rows])
        return 0
    table = [[heading for _k, heading in COLUMNS], *rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(COLUMNS))]
    print(f"bookings for a time in {args.month}, the practice's time ({settings.timezone})")
    for row in table:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
    print(NOT_MARKED)
    return 0


def _shown(count: int) -> str:
    return "<5" if 0 < count < SMALL else str(count)


def _export_bookings(args: argparse.Namespace, settings: Settings) -> int:
    try:
        start, end = _day(args.start, "--from"), _day(args.end, "--to")
    except ValueError as error:
        return fail(str(error))
    if end < start:
        return fail(f"--to ({args.end}) is before --from ({args.start})")
    store = open_store(settings)
    tz = ZoneInfo(settings.timezone)
    consultants = {c.id: c.name for c in store.consultants(active_only=False)}
    lines = [
        [
            b.ref,
            f"{b.start:%Y-%m-%d}",
            f"{b.start:%H:%M}",
            b.way,
            b.consult_lang,
            b.org_code,
            b.status,
            consultants.get(b.consultant_id, ""),  # "": the team calendar
        ]
        for b in store.booking_records(_midnight(start, tz), _midnight(end + timedelta(1), tz))
    ]
    if args.output is None:
        csv.writer(sys.stdout, lineterminator="\n").writerows([EXPORT_COLUMNS, *lines])
        return 0
    try:
        with open(args.output, "w", newline="", encoding="utf-8") as file:
            csv.writer(file).writerows([EXPORT_COLUMNS, *lines])
    except OSError as error:
        return fail(f"--output: cannot write {args.output}: {error.strerror}")
    print(f"wrote {len(lines)} bookings to {args.output}")
    return 0


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{option}: expected a date like 2026-11-01, not {text!r}") from None


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=tz)
