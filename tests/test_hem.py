"""kard_async.hem: email normalization and hashing (API reference §12), and parity with the SDK."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from kard_async import InvalidParameterError
from kard_async.hem import generate_hem, normalize_email


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("user@example.com", "user@example.com"),
        ("MyEmail@Example.COM", "myemail@example.com"),
        ("  jane@example.com\n", "jane@example.com"),
        ("ja ne@exa\tmple.com", "jane@example.com"),  # whitespace anywhere goes
        ("\u00a0jane@example.com\u3000", "jane@example.com"),  # Unicode whitespace too
        # Outside Gmail, dots and '+' tags are part of the address.
        ("Jane.Saoirse@example.com", "jane.saoirse@example.com"),
        ("JaneSaoirse+Work@example.com", "janesaoirse+work@example.com"),
        # Gmail: no dots, nothing from the first '+', googlemail.com is gmail.com.
        ("JANE.SAOIRSE@gmail.com", "janesaoirse@gmail.com"),
        ("Jane.Saoirse+Work@gmail.com", "janesaoirse@gmail.com"),
        ("j.a.n.e+a+b.c@GoogleMail.com", "jane@gmail.com"),
        ("jane.doe+@gmail.com", "janedoe@gmail.com"),
        # Only those two exact domains are Gmail.
        ("jane.doe+x@mail.gmail.com", "jane.doe+x@mail.gmail.com"),
        ("jane.doe+x@gmail.co", "jane.doe+x@gmail.co"),
        ("ÉLODIE.Dupont@Exemple.FR", "élodie.dupont@exemple.fr"),
    ],
)
def test_normalize_email(raw: str, normalized: str) -> None:
    assert normalize_email(raw) == normalized
    assert normalize_email(normalized) == normalized  # idempotent


@pytest.mark.parametrize(
    ("raw", "digest"),
    [
        # UID2's documented example (base64 tMmiiTI7IaAcPpQPFQ65uMVCWH8av9jw4cwf/F5HVRQ=).
        ("user@example.com", "b4c9a289323b21a01c3e940f150eb9b8c542587f1abfd8f0e1cc1ffc5e475514"),
        (" Test@Example.com ", "973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b"),
        ("John.Doe@GMail.com", "06a240d11cc201676da976f7b49341181fd180da37cbe40a77432c0a366c80c3"),
    ],
)
def test_generate_hem(raw: str, digest: str) -> None:
    assert generate_hem(raw) == digest


def test_equivalent_addresses_hash_alike() -> None:
    assert generate_hem("John.Doe@gmail.com") == generate_hem("johndoe+kard@googlemail.com")
    assert generate_hem("john.doe@example.com") != generate_hem("johndoe@example.com")


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (None, "must be a str"),
        (b"jane@example.com", "must be a str"),
        (42, "must be a str"),
        ("", "must not be empty"),
        (" \t\n", "must not be empty"),
        ("jane.example.com", "exactly one '@', this one has 0"),
        ("jane@doe@example.com", "exactly one '@', this one has 2"),
        ("@example.com", "before '@' must not be empty"),
        ("jane@", "after '@' must not be empty"),
        (" @ ", "before '@' must not be empty"),
        ("+jane@gmail.com", "nothing is left before '@'"),
        ("...@googlemail.com", "nothing is left before '@'"),
        ("jane\ud800@example.com", "lone surrogate"),
    ],
)
@pytest.mark.parametrize("function", [normalize_email, generate_hem])
def test_bad_input_is_refused_clearly(function: Any, raw: object, problem: str) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        function(raw)
    error = caught.value
    assert isinstance(error, ValueError)
    assert error.parameter == "raw"
    assert problem in str(error)
    assert error.__cause__ is None
    assert error.__context__ is None


def test_errors_never_repeat_the_address() -> None:
    raw = "Private.Person@@example.com"
    with pytest.raises(InvalidParameterError) as caught:
        generate_hem(raw)
    text = f"{caught.value} {caught.value!r} {caught.value.value!r} {caught.value.args!r}"
    assert "private" not in text.lower()
    assert "example" not in text
    assert str(caught.value) == (
        "invalid raw='<email address, 27 characters>': "
        "an email address has exactly one '@', this one has 2"
    )


# --- parity with the official SDK's kard.hem (when installed) ---

LOCALS = ["jane", "Jane.Doe", "jane+tag", "j.a.n.e+t.a.g", "+tag", ".", "a+b+c", "", "ÉLO.die"]
DOMAINS = ["example.com", "gmail.com", "GMAIL.COM", "googlemail.com", "mail.gmail.com", "", "x"]
DECORATIONS = ["{}", " {} ", "\t{}\n", "{}@", "@{}", "\u00a0{}"]
OTHER_INPUTS: list[object] = ["", "   ", "no-at-sign", "a@b@c", "@", "a @ b", None, 7, b"a@b"]


def parity_inputs() -> list[object]:
    made = [
        decoration.format(f"{local}@{domain}")
        for local, domain, decoration in itertools.product(LOCALS, DOMAINS, DECORATIONS)
    ]
    return [*made, *OTHER_INPUTS]


def test_same_results_as_the_official_sdk() -> None:
    sdk = pytest.importorskip(
        "kard.hem", reason="kard-financial-sdk is not installed (pip install --group bench)"
    )
    inputs = parity_inputs()
    compared = 0
    for raw in inputs:
        try:
            expected = sdk.normalize_email(raw)
        except (TypeError, ValueError):
            with pytest.raises(InvalidParameterError):
                normalize_email(raw)  # type: ignore[arg-type]
            continue
        if expected.startswith("@"):
            # A Gmail address with nothing before '@' once dots and '+' tag go: the SDK hashes
            # "@gmail.com"; we refuse it (every such address would share one hash).
            with pytest.raises(InvalidParameterError, match="nothing is left"):
                normalize_email(raw)  # type: ignore[arg-type]
            continue
        assert normalize_email(raw) == expected, raw  # type: ignore[arg-type]
        assert generate_hem(raw) == sdk.generate_hem(raw), raw  # type: ignore[arg-type]
        compared += 1
    assert compared >= 100, f"only {compared} of {len(inputs)} inputs were valid addresses"
