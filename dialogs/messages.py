"""What goes into and out of the engine, and the conversation state it saves."""

import dataclasses
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from dialogs.crisis import CrisisScreen
    from dialogs.i18n import Texts
    from storage import Store


@dataclass(frozen=True)
class Input:
    """What the client did: typed text, pressed a button, shared a contact, sent a command."""

    kind: Literal["text", "choice", "contact", "command", "other"]
    value: str = ""
    contact_user_id: int | None = None

    def __post_init__(self) -> None:
        # Control characters mean nothing to a reader, and PostgreSQL refuses a NUL in text:
        # they never reach an answer. Line breaks and tabs are kept.
        if _CONTROL.search(self.value):
            object.__setattr__(self, "value", _CONTROL.sub("", self.value))


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Button:
    data: str  # "namespace:id", never a label
    label: str


@dataclass
class Reply:
    text: str
    buttons: list[list[Button]] = field(default_factory=list)
    contact_button: str | None = None  # label of a "share my phone number" button
    contact_hint: str = ""  # what the text says of that button, where a front can show it
    document: tuple[str, bytes] | None = None  # (file name, content) sent after the text


@dataclass
class StaffNote:
    """A message for the staff group; `ref` ties it to a booking (its id is kept to edit it)."""

    text: str
    ref: str | None = None
    buttons: list[list[Button]] = field(default_factory=list)
    urgent: bool = False  # a crisis alert: sent before any other staff message
    reply_to: int | None = None  # the group message it answers: a reply notifies, an edit not
    # Or the notice of this booking, found when it is sent (the notice may still be queued).
    reply_to_booking: str | None = None


@dataclass(frozen=True)
class StaffEdit:
    """Replace the staff-group message of booking `ref`: a new status, a correction, an erasure."""

    ref: str
    text: str
    buttons: list[list[Button]] = field(default_factory=list)


@dataclass
class Outcome:
    replies: list[Reply] = field(default_factory=list)
    staff: list[StaffNote] = field(default_factory=list)
    staff_edits: list[StaffEdit] = field(default_factory=list)
    to_clients: list[tuple[int, Reply]] = field(default_factory=list)  # (chat id, message)
    # Staff messages known by their id (an erased client's alerts): (chat, message id, text)
    rewrites: list[tuple[int, int, str]] = field(default_factory=list)
    # To a staff member's private chat: (their Telegram id, message, the client it shows)
    private: list[tuple[int, Reply, int | None]] = field(default_factory=list)
    events: list[str] = field(default_factory=list)  # for metrics: "intake_started", ...


@dataclass
class Turn:
    """One input being handled: who sent it and what goes back."""

    user_id: int
    chat_id: int
    hint: str  # interface language guessed from Telegram
    out: Outcome


@dataclass
class State:
    lang: str
    step: str = "language"  # "language", "consent", a question key, "summary" or "done"
    answers: dict[str, Any] = field(default_factory=dict)
    misses: dict[str, int] = field(default_factory=dict)
    editing: bool = False  # came from the summary: return there after this answer
    # In between: "cancel", "age", "erase", or a number to call: "call_me", "human".
    pending: str | None = None
    offer: list[str] = field(default_factory=list)  # slots offered after losing one
    consent_version: str | None = None
    resume: str | None = None  # where to go on after agreeing to a changed notice
    correcting: str | None = None  # an answer being corrected from /mydata
    booking_ref: str | None = None
    urgent: str | None = None  # crisis category noticed in this intake; marks the booking
    hold_ref: str | None = None  # the slot held while the client reviews the summary
    week: int = 0  # which week of free days the day question shows
    rescheduling: str | None = None  # the booking being moved with the day and time questions
    human_asked_at: str | None = None  # when a call back was last asked for (/human), ISO

    @classmethod
    def load(cls, data: dict) -> "State":
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in names})


@dataclass(frozen=True)
class IntakeConfig:
    ways: tuple[str, ...] = ("video", "phone", "chat")
    consult_langs: tuple[str, ...] = ("bg", "en")
    staff_lang: str = "bg"
    practice_name: str = "Kabinet.bg"
    practice_contact: str = "private@kabinet.bg"
    admin_ids: frozenset[int] = frozenset()  # ADMIN_USER_IDS: who runs the practice (/setup)
    staff_ids: frozenset[int] = frozenset()  # STAFF_USER_IDS: the intake coordinators
    abandoned_intake_days: int = 30
    booking_retention_days: int = 365
    crisis_contacts: tuple[str, ...] = ()  # shown with 112 when a message suggests acute risk
    abuse_contacts: tuple[str, ...] = ()  # shown with 112 when someone else endangers the client
    opening_hours: str = "mon-fri 08:00-20:00"  # as the admin wrote it, for the client
    safety_check_minutes: int = 5  # no answer to "are you safe right now?" by then: raise it
    alert_take_minutes: int = 10  # nobody pressed "I'm calling" by then: post it again
    alert_private_ids: tuple[int, ...] = ()  # who also gets that in a private chat (opted in)
    accept_demo_code: bool = False  # the terminal demo's code; refused by a real bot by default


# The organization code `intake-bot chat` sets up on an empty store, to try the intake with.
DEMO_CODE = "DEMO"


@dataclass(frozen=True)
class Context:
    """What every flow works with: the store (inside the update's transaction, when there is
    one), the texts, the practice's settings and the crisis screen."""

    store: "Store"
    t: "Texts"
    config: IntakeConfig
    screen: "CrisisScreen"


def rows(buttons: list[Button], columns: int) -> list[list[Button]]:
    """Lay buttons out `columns` to a row."""
    return [buttons[i : i + columns] for i in range(0, len(buttons), columns)]


MESSAGE_LIMIT = 4096  # characters in one Telegram message


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Cut a long text into messages, in order, at line ends; a line longer than a message is
    cut after a space (inside a word only if there is none): no word is lost or cut."""
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        for piece in _pieces(line, limit):
            if current and len(current) + 1 + len(piece) > limit:
                parts.append(current)
                current = piece
            else:
                current = f"{current}\n{piece}" if current else piece
    return [*parts, current] if current else parts


def _pieces(line: str, limit: int) -> list[str]:
    pieces = []
    while len(line) > limit:
        cut = line.rfind(" ", limit // 2, limit) + 1 or limit  # the space stays with the first
        pieces.append(line[:cut])
        line = line[cut:]
    return [*pieces, line]
