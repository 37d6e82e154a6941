"""Case numbers and secret keys: random, typeable, and stored only as a slow hash."""

from __future__ import annotations

from bot.reports import receipts


def test_case_numbers_and_keys_are_random_and_readable():
    numbers = {receipts.new_case_number() for _ in range(200)}
    keys = {receipts.new_secret_key() for _ in range(200)}
    assert len(numbers) == len(keys) == 200
    for number in numbers:
        assert number.startswith("R-") and len(number) == 10
        assert set(number[2:]) <= set(receipts.ALPHABET)
    for key in keys:
        groups = key.split("-")
        assert [len(g) for g in groups] == [4] * 5 and set("".join(groups)) <= set(
            receipts.ALPHABET)
    assert not set("01OIL") & set(receipts.ALPHABET)


def test_typed_case_numbers_are_normalised():
    assert receipts.normalise_case_number(" r-abcd efgh ") == "R-ABCDEFGH"
    assert receipts.normalise_case_number("ABCDEFGH") == "R-ABCDEFGH"
    assert receipts.normalise_case_number("R-ABCDEF") is None
    assert receipts.normalise_case_number("R-ABCDEFG0") is None  # 0 is never issued
    assert receipts.normalise_case_number("") is None


def test_key_hash_is_salted_scrypt_and_checks_typed_variants():
    key = receipts.new_secret_key()
    stored = receipts.hash_key(key)
    scheme, log_n, r, p, _salt, _digest = stored.split("$")
    assert (scheme, log_n, r, p) == ("scrypt", "15", "8", "1")
    assert key not in stored and key.replace("-", "") not in stored
    assert receipts.hash_key(key) != stored
    assert receipts.check_key(key, stored)
    assert receipts.check_key(key.lower().replace("-", " "), stored)
    assert not receipts.check_key(receipts.new_secret_key(), stored)
    assert not receipts.check_key("", stored)
