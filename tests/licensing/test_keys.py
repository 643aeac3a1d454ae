import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from saleor_license_plugin.licensing import keys
from saleor_license_plugin.licensing.errors import LicenseErrorCode, MalformedKey

SECRET = b"k" * 32


def key_from_number(number: int) -> str:
    data = "".join(
        keys.ALPHABET[(number >> (5 * i)) & 31] for i in reversed(range(keys.DATA_SYMBOLS))
    )
    return data + keys._check_symbol(data)


numbers = st.integers(min_value=0, max_value=2**keys.BITS - 1)


def test_generated_key_shape():
    key = keys.generate()
    assert len(key) == 25 and set(key) <= set(keys.ALPHABET)
    grouped = keys.format_key(key)
    assert grouped.count("-") == 4 and all(len(g) == 5 for g in grouped.split("-"))
    assert keys.normalize(grouped) == key


def test_keys_carry_120_random_bits():
    assert keys.BITS >= 120 and 5 * keys.DATA_SYMBOLS == keys.BITS
    generated = {keys.generate() for _ in range(2000)}
    assert len(generated) == 2000
    # every data position takes many values: nothing is fixed or derived
    for position in range(keys.DATA_SYMBOLS):
        assert len({k[position] for k in generated}) > 20


@given(numbers, st.sampled_from(["upper", "lower", "spaced"]))
def test_round_trip_ignores_case_spaces_and_dashes(number, style):
    key = key_from_number(number)
    shown = keys.format_key(key)
    typed = {"upper": shown, "lower": shown.lower(), "spaced": " ".join(shown.replace("-", ""))}[
        style
    ]
    assert keys.normalize(typed) == key


@given(numbers, st.integers(min_value=0, max_value=24), st.integers(min_value=1, max_value=31))
def test_one_mistyped_character_is_rejected(number, position, shift):
    key = key_from_number(number)
    wrong = keys.ALPHABET[(keys.ALPHABET.index(key[position]) + shift) % 32]
    typo = key[:position] + wrong + key[position + 1 :]
    with pytest.raises(MalformedKey) as info:
        keys.normalize(keys.format_key(typo))
    assert info.value.code is LicenseErrorCode.MALFORMED_KEY


def test_every_single_substitution_is_caught_exhaustively():
    key = keys.generate()
    for position in range(len(key)):
        for wrong in keys.ALPHABET.replace(key[position], ""):
            with pytest.raises(MalformedKey):
                keys.normalize(key[:position] + wrong + key[position + 1 :])


def test_most_neighbour_swaps_are_caught():
    caught = total = 0
    for _ in range(200):
        key = keys.generate()
        for i in range(len(key) - 1):
            if key[i] == key[i + 1]:
                continue
            total += 1
            swapped = key[:i] + key[i + 1] + key[i] + key[i + 2 :]
            try:
                keys.normalize(swapped)
            except MalformedKey:
                caught += 1
    assert caught / total > 0.9


def test_letters_read_as_digits_are_accepted():
    key = keys.generate()
    typed = key.replace("0", "O").replace("1", "l")
    assert keys.normalize(typed) == key


@pytest.mark.parametrize(
    "typed, fragment",
    [
        ("", "has 0"),
        ("ABCDE-FGHJK", "has 10"),
        ("U" * 25, "Character 1"),
        ("!" + "A" * 24, "Character 1"),
        ("A" * 1000, "25 characters"),
        (None, "must be text"),
        (12345, "must be text"),
    ],
)
def test_malformed_keys_get_a_typed_error(typed, fragment):
    with pytest.raises(MalformedKey) as info:
        keys.normalize(typed)
    assert fragment in info.value.message
    assert info.value.field == "key"


def test_digest_is_keyed_and_stable():
    key = keys.generate()
    assert keys.digest(key, SECRET) == keys.digest(key, SECRET)
    assert keys.digest(key, SECRET) != keys.digest(key, b"other" * 8)
    assert len(keys.digest(key, SECRET)) == 64 and set(keys.digest(key, SECRET)) <= set(
        string.hexdigits
    )
    assert key not in keys.digest(key, SECRET)


def test_sealed_key_opens_only_with_its_secret():
    key = keys.generate()
    sealed = keys.seal(key, SECRET)
    assert key not in sealed
    assert keys.unseal(sealed, SECRET) == key
    with pytest.raises(RuntimeError, match="KEY_SECRET") as info:
        keys.unseal(sealed, b"x" * 32)
    assert key not in str(info.value)
