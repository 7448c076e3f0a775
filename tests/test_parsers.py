"""Each answer parser on good and bad input."""

import pytest

from dialogs.parsers import (
    Invalid,
    parse_age,
    parse_city,
    parse_email,
    parse_name,
    parse_notes,
    parse_org_code,
    parse_phone,
    parse_reason,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Мария Иванова", "Мария Иванова"),
        ("  Maria   Ivanova  ", "Maria Ivanova"),
        ("Anne-Marie O'Neil", "Anne-Marie O'Neil"),
        ("Жан-Пиер д’Арк", "Жан-Пиер д’Арк"),
        ("José Müller Smith", "José Müller Smith"),
    ],
)
def test_name_accepts_two_or_more_words_of_letters(text, expected):
    assert parse_name(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Maria", "error.name_two_words"),
        ("", "error.name_letters"),
        ("Maria 123", "error.name_letters"),
        ("Maria -Ivanova", "error.name_letters"),
        ("Maria Ivanova 😀", "error.name_letters"),
        ("Мария " + "а" * 95, "error.name_long"),
    ],
)
def test_name_refuses_what_is_not_a_name(text, reason):
    with pytest.raises(Invalid) as caught:
        parse_name(text)
    assert caught.value.reason == reason


@pytest.mark.parametrize(
    ("text", "age"),
    [
        ("34", 34),
        (" 18 ", 18),
        ("120", 120),
        ("34 г.", 34),
        ("34 години", 34),
        ("34 years", 34),
        ("5", 5),
    ],
)
def test_age_reads_whole_numbers(text, age):
    assert parse_age(text) == age


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("121", "error.age_range"),
        ("0", "error.age_range"),
        ("34.5", "error.age_number"),
        ("thirty", "error.age_number"),
        ("-3", "error.age_number"),
        ("", "error.age_number"),
    ],
)
def test_age_refuses_what_is_not_an_age(text, reason):
    with pytest.raises(Invalid) as caught:
        parse_age(text)
    assert caught.value.reason == reason


@pytest.mark.parametrize(
    ("text", "e164"),
    [
        ("0888 123 456", "+359888123456"),
        ("+359 88 812 3456", "+359888123456"),
        ("00359888123456", "+359888123456"),
        ("02 915 35 19", "+35929153519"),
        ("+44 20 7946 0958", "+442079460958"),
    ],
)
def test_phone_is_stored_in_e164_with_bulgaria_as_default(text, e164):
    assert parse_phone(text) == e164


@pytest.mark.parametrize("text", ["123", "phone", "+359 1", "", "0888 123 456 789 000"])
def test_phone_refuses_invalid_numbers(text):
    with pytest.raises(Invalid):
        parse_phone(text)


def test_email_is_normalized_without_network():
    assert parse_email(" Maria@EXAMPLE.com ") == "Maria@example.com"
    assert parse_email("иван@пример.бг").startswith("иван@")


@pytest.mark.parametrize("text", ["maria", "maria@", "@example.com", "a b@example.com", ""])
def test_email_refuses_bad_syntax(text):
    with pytest.raises(Invalid):
        parse_email(text)


def test_org_code_ignores_case_and_spaces():
    assert parse_org_code(" acme 20 26 ") == "ACME2026"
    with pytest.raises(Invalid):
        parse_org_code("   ")


def test_city_length_and_letters():
    assert parse_city("  Велико   Търново ") == "Велико Търново"
    for bad in ("S", "12345", "x" * 81):
        with pytest.raises(Invalid):
            parse_city(bad)


def test_free_text_is_counted_in_words_and_has_no_small_upper_limit():
    assert parse_reason("  тъжен съм  ") == "тъжен съм"  # two words are a few words
    assert parse_reason("sad, lonely") == "sad, lonely"
    for too_little in ("тъжен", "sad", " ... ", "!!! ??"):
        with pytest.raises(Invalid):
            parse_reason(too_little)
    long = "дума " * 3000  # 15,000 characters: never refused, the answer keeps the first part
    assert parse_reason(long) == long.strip()
    assert parse_notes("ok") == "ok"
    for nothing in (" ", "-", "..."):
        with pytest.raises(Invalid):
            parse_notes(nothing)
