"""Time off: one implementation of its checks for two fronts, the admin's command line
(`intake-bot staff timeoff`, `closure`) and a consultant's private chat (/timeoff).

A refusal is a message id with its values; each front says it in its own language."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from dialogs.i18n import _

NOTE_MAX = 200  # characters, as the table keeps them


class Refused(ValueError):
    """Input a front must refuse, as a message id and its values."""

    def __init__(self, msgid: str, **params: object):
        super().__init__(msgid)
        self.msgid, self.params = msgid, params


@dataclass(frozen=True)
class Entered:
    id: int
    start: datetime
    end: datetime
    clashes: int  # standing bookings of the consultant in it, someone must move them


def moment(text: str, tz: ZoneInfo, *, end: bool) -> datetime:
    """A local date (a whole day: its start, or the next day's start for an end) or time."""
    try:
        found = datetime.fromisoformat(text).replace(tzinfo=tz)
    except ValueError:
        raise Refused(_("timeoff.bad_moment"), value=text) from None
    if "T" in text:
        return found
    return found + timedelta(days=1) if end else found


def period(start: str, end: str, tz: ZoneInfo, ends_before: str) -> tuple[datetime, datetime]:
    """START and END as moments, the end after the start (else `ends_before` is said)."""
    begins, ends = moment(start, tz, end=False), moment(end, tz, end=True)
    if ends <= begins:
        raise Refused(ends_before, start=start, end=end)
    return begins, ends


def add(store, consultant_id: int, start: str, end: str, note: str, tz: ZoneInfo) -> Entered:
    """Block a consultant's time from START to END; the slot picker no longer offers it."""
    begins, ends = period(start, end, tz, _("timeoff.ends_before"))
    note = " ".join(note.split())[:NOTE_MAX]
    entry = store.add_time_off(consultant_id, begins, ends, note)
    clashes = [b for b in store.bookings_between(begins, ends) if b.consultant_id == consultant_id]
    return Entered(entry, begins, ends, len(clashes))


def listing(store, consultant_id: int, tz: ZoneInfo) -> list[tuple[int, datetime, datetime, str]]:
    """(number, from, to, note) of each time off, earliest first, in the practice's time."""
    return [
        (e.id, e.starts.astimezone(tz), e.ends.astimezone(tz), e.note)
        for e in store.time_off(consultant_id)
    ]
