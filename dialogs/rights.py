"""The client's rights in the chat (/mydata, correction, erasure) and staff access to details."""

import json
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from dialogs.bookings import CLIENT_STATUS
from dialogs.i18n import _
from dialogs.messages import Button, Input, Reply, StaffEdit, State, Turn, rows, split_message
from dialogs.questions import BY_KEY, QUESTIONS

if TYPE_CHECKING:
    from dialogs.engine import IntakeEngine

log = logging.getLogger(__name__)

CORRECTABLE = ("name", "phone", "email", "city")
MYDATA_SNIPPET = 200


class RightsMixin:
    """Part of IntakeEngine: what a client can see, correct and erase, and who looked."""

    def _rights_command(
        self: "IntakeEngine", state: State | None, command: str, turn: Turn
    ) -> State | None:
        lang = state.lang if state else turn.hint
        if command == "mydata":
            turn.out.replies.extend(self._my_data(turn.user_id, lang))
            return state
        if not self._has_data(turn.user_id, state):
            turn.out.replies.append(Reply(self.t(lang, "mydata.nothing")))
            return state
        state = state or State(lang=lang, step="done")
        state.pending = "erase"
        question = _("withdraw.confirm") if command == "withdraw" else _("erase.confirm")
        turn.out.replies.append(
            self._yes_no(lang, question, "erase", _("erase.yes"), _("erase.no"))
        )
        return state

    def _rights_choice(
        self: "IntakeEngine", state: State | None, data: str, turn: Turn
    ) -> State | None:
        lang = state.lang if state else turn.hint
        space, _sep, value = data.partition(":")
        if data == "erase:ask":  # the button under /mydata
            return self._rights_command(state, "deletedata", turn)
        if space == "erase" and state is not None and state.pending == "erase":
            state.pending = None
            if value == "yes":
                self._erase(turn, lang)
                return None
            turn.out.replies.append(Reply(self.t(lang, "erase.kept")))
            self._ask(state, turn.out)
            return state
        if space == "fix" and value in CORRECTABLE and self._has_data(turn.user_id, state):
            state = state or State(lang=lang, step="done")
            state.correcting = value
            self._ask(state, turn.out)
            return state
        turn.out.replies.append(Reply(self.t(lang, "error.stale_button")))
        if state is not None and state.step != "done":
            self._ask(state, turn.out)
        return state

    def _correct(self: "IntakeEngine", state: State, inp: Input, turn: Turn) -> State:
        """Apply a corrected answer everywhere it is kept; staff see it from now on."""
        key = state.correcting
        text = inp.value if inp.kind == "text" else self._own_phone(state, inp, turn)
        value = None if text is None else self._parse(state, BY_KEY[key], text, turn.out)
        if value is None:
            self._ask(state, turn.out, progress=False)
            return state
        state.correcting = None
        if key in state.answers:
            state.answers[key] = value
        for booking in self.store.correct_answer(user_id=turn.user_id, key=key, value=value):
            turn.out.staff_edits += self._staff_edit(booking)
        turn.out.replies.append(Reply(self.t(state.lang, "fix.done")))
        log.info("a client corrected their %s", key)
        if state.step != "done":
            self._ask(state, turn.out)
        return state

    def _correction_question(self: "IntakeEngine", state: State) -> Reply:
        question = BY_KEY[state.correcting]
        reply = self._question(state, question, progress=False)
        reply.buttons = []
        return reply

    def _erase(self: "IntakeEngine", turn: Turn, lang: str) -> None:
        staff = self.config.staff_lang
        for booking in self.store.erase_client(turn.user_id):
            active = booking.status in ("pending", "confirmed")
            cancelled = active and booking.start > self.store.clock()
            message = _("staff.erased_cancelled") if cancelled else _("staff.erased")
            text = self.t(staff, message, ref=booking.ref, when=self.t.when(booking.start, staff))
            turn.out.staff_edits.append(StaffEdit(booking.ref, text))
        turn.out.replies.append(Reply(self.t(lang, "erase.done")))
        log.info("a client's data was erased at their request")

    def _has_data(self: "IntakeEngine", user_id: int, state: State | None) -> bool:
        return bool(state and state.answers) or bool(self.store.client_bookings(user_id))

    # /mydata

    def _my_data(self: "IntakeEngine", user_id: int, lang: str) -> list[Reply]:
        data = self.store.export_client(user_id)
        about = {
            "purposes": self.t(lang, "mydata.purposes"),
            "recipients": self.t(lang, "mydata.recipients"),
            "retention": self.t(
                lang,
                "mydata.retention",
                abandoned_days=self.config.abandoned_intake_days,
                booking_days=self.config.booking_retention_days,
            ),
        }
        has_answers = bool(data["bookings"] or (data["conversation"] or {}).get("answers"))
        if not has_answers and not data["consents"]:
            return [Reply(self.t(lang, "mydata.nothing") + "\n\n" + about["retention"])]
        lines = [self.t(lang, "mydata.title")]
        in_progress = (data["conversation"] or {}).get("answers") or {}
        latest = data["bookings"][-1]["answers"] if data["bookings"] else {}
        answers = State(lang=lang, answers=in_progress or latest)
        if answers.answers:
            lines += ["", self.t(lang, "mydata.section_answers")]
            lines += [
                f"{self.t(lang, q.label)}: {self.shown(answers, q, MYDATA_SNIPPET)}"
                for q in QUESTIONS
                if q.label and q.key in answers.answers
            ]
        if data["bookings"]:
            lines += ["", self.t(lang, "mydata.section_bookings")]
            for booking in data["bookings"]:
                when = self.t.when(datetime.fromisoformat(booking["start"]), lang)
                status_label = CLIENT_STATUS[booking["status"]]
                status = self.t(lang, status_label)
                lines.append(f"• {booking['reference']}: {when} ({status})")
        lines += ["", self.t(lang, "mydata.section_consents")]
        lines += [
            self.t(
                lang,
                "mydata.consent_line",
                date=self.t.when(datetime.fromisoformat(c["given_at"]), lang),
                version=c["notice_version"],
            )
            for c in data["consents"]
        ] or [self.t(lang, "mydata.none")]
        lines += ["", self.t(lang, "mydata.section_reminders"), self.t(lang, "mydata.none")]
        lines += ["", self.t(lang, "mydata.section_access")]
        lines += [
            self.t(
                lang,
                "mydata.access_line",
                who=a["staff_member"],
                date=self.t.when(datetime.fromisoformat(a["at"]), lang),
            )
            for a in data["staff_accesses"]
        ] or [self.t(lang, "mydata.none")]
        lines += ["", about["purposes"], about["recipients"], about["retention"]]
        lines += ["", self.t(lang, "mydata.file_note")]
        buttons = rows(
            [Button(f"fix:{key}", "✏️ " + self.t(lang, BY_KEY[key].label)) for key in CORRECTABLE],
            2,
        )
        buttons.append([Button("erase:ask", self.t(lang, "button.erase"))])
        export = {"generated_at": datetime.now(UTC).isoformat(timespec="seconds"), **data, **about}
        document = json.dumps(export, ensure_ascii=False, indent=2).encode()
        return [
            Reply("\n".join(lines)[:4000], buttons),
            Reply(self.t(lang, "mydata.file_caption"), document=("my-data.json", document)),
        ]

    # Staff access to a client's details

    def staff_details(
        self: "IntakeEngine", *, ref: str, staff_user_id: int
    ) -> tuple[str, list[str]]:
        """(what to answer on the button, the full intake in messages to send in private)."""
        staff = self.config.staff_lang
        if not self.is_staff(staff_user_id):
            return self.t(staff, "staff.not_authorized"), []
        booking = self.store.booking(ref)
        if booking is None or not booking.answers:
            return self.t(staff, "staff.details_gone"), []
        state = State(lang=staff, answers=booking.answers)
        lines = [
            self.t(staff, "staff.details_title", ref=ref, when=self.t.when(booking.start, staff)),
            "",
        ]
        lines += [
            f"{self.t(staff, q.label)}: {self.shown(state, q, limit=None)}"
            for q in QUESTIONS
            if q.label and q.key != "time"
        ]
        return self.t(staff, "staff.details_sent"), split_message("\n".join(lines))

    def details_access(
        self: "IntakeEngine", *, ref: str, staff_user_id: int, staff_name: str
    ) -> dict | None:
        """The record to keep (for the client's /mydata) once the details were delivered."""
        booking = self.store.booking(ref)
        if not booking or not booking.user_id:
            return None
        return {
            "client_user_id": booking.user_id,
            "staff_user_id": staff_user_id,
            "staff_name": staff_name,
            "booking_ref": ref,
            "what": "details",
        }
