"""Unit tests for the synthetic data helpers and generators (pure: no database)."""

from __future__ import annotations

import datetime as dt
import random
import re
from decimal import Decimal

import pytest

from dataacuity.registry import DEFAULT_REGISTRY_PATH, load_registry
from tools.seed.apps import generate_database, make_world
from tools.seed.ddl import source_ddl_columns
from tools.seed.people import (
    ascii_fold,
    haversine_km,
    is_valid_sa_id,
    is_valid_sa_mobile,
    luhn_check_digit,
    make_email,
    make_ipv4,
    make_person,
    make_sa_id_number,
    make_sa_mobile,
    normalise_sa_mobile,
    sa_id_birth_date,
    sa_id_luhn_digit,
)
from tools.seed.reference import (
    AFRIKAANS_FIRST_NAMES,
    CITIES,
    ENGLISH_FIRST_NAMES,
    HISTORY_DAYS,
    NAME_POOLS,
    SA_LATITUDE_RANGE,
    SA_LONGITUDE_RANGE,
    SA_MOBILE_PREFIXES,
    XHOSA_FIRST_NAMES,
    ZULU_FIRST_NAMES,
)
from tools.seed.rows import user_row
from tools.seed.world import build_users

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def world():
    return make_world(scale=1, seed=42, now=NOW)


@pytest.fixture(scope="module")
def same_seed_world():
    return make_world(scale=1, seed=42, now=NOW)


@pytest.fixture(scope="module")
def other_seed_world():
    return make_world(scale=1, seed=7, now=NOW)


@pytest.fixture(scope="module")
def all_data(world):
    """Every source database's generated rows, computed once for the module."""
    return {
        source.name: generate_database(world, source.name) for source in load_registry(DEFAULT_REGISTRY_PATH).sources
    }


# ------------------------------------------------------------------- SA ID numbers


def test_luhn_check_digit_classic_example():
    assert luhn_check_digit("7992739871") == 3


@pytest.mark.parametrize("valid_id", ["8001015009087", "8506265800084"])
def test_known_valid_sa_ids(valid_id):
    assert sa_id_luhn_digit(valid_id[:12]) == int(valid_id[12])
    assert is_valid_sa_id(valid_id)


@pytest.mark.parametrize(
    "invalid_id",
    [
        "8001015009086",  # wrong check digit
        "8013015009084",  # month 13
        "8002305009083",  # 30 February
        "8001015009287",  # citizenship digit 2
        "800101500908",  # 12 digits
        "80010150090877",  # 14 digits
        "80010150O9087",  # a letter
        "",
    ],
)
def test_invalid_sa_ids(invalid_id):
    assert not is_valid_sa_id(invalid_id)


def test_sa_id_luhn_digit_rejects_bad_input():
    with pytest.raises(ValueError):
        sa_id_luhn_digit("12345")
    with pytest.raises(ValueError):
        sa_id_luhn_digit("80010150090a")


def test_generated_sa_ids_encode_birth_date_gender_and_citizenship():
    rng = random.Random(1)
    for _ in range(500):
        birth = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randint(0, 20_000))
        female = rng.random() < 0.5
        citizen = rng.random() < 0.9
        number = make_sa_id_number(rng, birth, female=female, citizen=citizen)
        assert is_valid_sa_id(number), number
        assert number[:6] == birth.strftime("%y%m%d")
        assert (int(number[6:10]) < 5000) == female
        assert number[10] == ("0" if citizen else "1")
        assert number[11] == "8"
    assert sa_id_birth_date("8001015009087") == dt.date(1980, 1, 1)


def test_changing_any_digit_breaks_the_check():
    number = "8001015009087"
    for position in range(13):
        for digit in "0123456789":
            if digit == number[position]:
                continue
            changed = number[:position] + digit + number[position + 1 :]
            if position == 12 or position >= 6 and position != 10:
                assert not is_valid_sa_id(changed), changed


# ------------------------------------------------------------------- phones, emails, names


def test_mobile_numbers_in_both_formats():
    rng = random.Random(7)
    numbers = [make_sa_mobile(rng) for _ in range(400)]
    assert any(n.startswith("+27") for n in numbers) and any(n.startswith("0") for n in numbers)
    for number in numbers:
        assert re.fullmatch(r"(\+27|0)[678]\d{8}", number), number
        assert is_valid_sa_mobile(number)
        national = number.removeprefix("+27").removeprefix("0")
        assert len(national) == 9 and national[:2] in SA_MOBILE_PREFIXES
    assert make_sa_mobile(rng, international=True).startswith("+27")
    assert make_sa_mobile(rng, international=False).startswith("0")


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("0821234567", True),
        ("+27821234567", True),
        ("+27601234567", True),
        ("0211234567", False),  # Cape Town landline
        ("082123456", False),  # 8 digits after the prefix
        ("+2708212345678", False),
        ("27821234567", False),
        ("0751234567", False),  # 75 is not a mobile prefix here
    ],
)
def test_is_valid_sa_mobile(number, valid):
    assert is_valid_sa_mobile(number) is valid


def test_normalise_sa_mobile():
    assert normalise_sa_mobile("0821234567") == "+27821234567"
    assert normalise_sa_mobile("+27821234567") == "+27821234567"
    with pytest.raises(ValueError):
        normalise_sa_mobile("0211234567")


def test_name_pools_cover_four_languages():
    assert set(NAME_POOLS) == {"en", "zu", "xh", "af"}
    assert abs(sum(share for _, _, share in NAME_POOLS.values()) - 1.0) < 1e-9
    for first_names, last_names, _ in NAME_POOLS.values():
        assert len(set(first_names)) >= 15 and len(set(last_names)) >= 15
    assert "Sipho" in ZULU_FIRST_NAMES and "Lwazi" in XHOSA_FIRST_NAMES
    assert "Anél" in AFRIKAANS_FIRST_NAMES and "James" in ENGLISH_FIRST_NAMES


def test_emails_are_ascii_and_derived_from_names():
    rng = random.Random(3)
    assert ascii_fold("Anél du Plessis") == "Anel du Plessis"
    for _ in range(200):
        email = make_email(rng, "Elsabé", "van der Merwe")
        assert re.fullmatch(r"[a-z0-9._]+@[a-z0-9.]+\.[a-z]+", email), email
        local = email.split("@")[0]
        assert "elsabe" in local or local.startswith("evandermerwe")


def test_ipv4_addresses_are_public_and_well_formed():
    rng = random.Random(5)
    for _ in range(200):
        octets = [int(part) for part in make_ipv4(rng).split(".")]
        assert len(octets) == 4 and all(0 <= o <= 255 for o in octets)
        assert octets[0] not in (10, 127, 172, 192) and octets[3] not in (0, 255)


def test_people_live_inside_south_africa_near_their_city():
    rng = random.Random(11)
    for _ in range(300):
        person = make_person(rng, NOW.date())
        assert SA_LATITUDE_RANGE[0] <= person.latitude <= SA_LATITUDE_RANGE[1]
        assert SA_LONGITUDE_RANGE[0] <= person.longitude <= SA_LONGITUDE_RANGE[1]
        distance = haversine_km(
            float(person.latitude), float(person.longitude), person.city.latitude, person.city.longitude
        )
        assert distance <= person.city.radius_km + 0.5
        low, high = person.city.postal_codes
        assert re.fullmatch(r"\d{4}", person.postal_code) and low <= int(person.postal_code) <= high
        assert is_valid_sa_id(person.sa_id_number)
        assert person.sa_id_number[:6] == person.date_of_birth.strftime("%y%m%d")
        age_years = (NOW.date() - person.date_of_birth).days / 365.25
        assert 18 <= age_years <= 76
    assert {city.province for city in CITIES} >= {"Gauteng", "Western Cape", "KwaZulu-Natal"}


SA_PROVINCES = {
    "Eastern Cape", "Free State", "Gauteng", "KwaZulu-Natal", "Limpopo", "Mpumalanga",
    "North West", "Northern Cape", "Western Cape",
}  # fmt: skip
# Facts of geography, not copied from the generator's city table.
KNOWN_PROVINCES = {"Johannesburg": "Gauteng", "Pretoria": "Gauteng", "Cape Town": "Western Cape",
                   "Durban": "KwaZulu-Natal", "Bloemfontein": "Free State", "Polokwane": "Limpopo",
                   "Kimberley": "Northern Cape", "Gqeberha": "Eastern Cape"}  # fmt: skip


def test_users_province_is_a_real_province_and_the_one_of_their_city(world):
    rows = [user_row(user) for user in world.users]
    assert {row["province"] for row in rows} <= SA_PROVINCES
    for row in rows:
        if row["city"] in KNOWN_PROVINCES:
            assert row["province"] == KNOWN_PROVINCES[row["city"]], (row["city"], row["province"])
    assert {row["city"] for row in rows} >= set(KNOWN_PROVINCES)  # every known city was checked


# ------------------------------------------------------------------- determinism and volumes


def test_person_generation_is_deterministic():
    first = [make_person(random.Random("s"), NOW.date()) for _ in range(3)]
    second = [make_person(random.Random("s"), NOW.date()) for _ in range(3)]
    assert first == second


def test_users_deterministic_ordered_and_three_percent_soft_deleted(world):
    users = world.users
    assert len(users) == 2_000
    assert users == build_users(42, 1, NOW)
    assert users != build_users(43, 1, NOW)
    assert [u.id for u in users] == list(range(1, len(users) + 1))
    assert all(a.created_at <= b.created_at for a, b in zip(users, users[1:], strict=False))
    assert len({u.person.email for u in users}) == len(users)
    deleted = [u for u in users if u.deleted_at is not None]
    assert 0.015 <= len(deleted) / len(users) <= 0.045
    assert all(u.created_at <= u.deleted_at <= NOW for u in deleted)


@pytest.mark.parametrize("source_db", ["ledger_db", "bidbaas_db", "txtme_db", "markets_db"])
def test_generate_database_is_deterministic(all_data, same_seed_world, other_seed_world, source_db):
    assert all_data[source_db] == generate_database(same_seed_world, source_db)
    assert all_data[source_db] != generate_database(other_seed_world, source_db)


def test_every_registry_table_is_generated_and_matches_its_ddl(all_data):
    registry = load_registry(DEFAULT_REGISTRY_PATH)
    for source in registry.sources:
        data = all_data[source.name]
        declared = source_ddl_columns(source.name)
        assert set(data) == set(declared), source.name
        for table in source.tables:
            rows = data[table.name]
            assert len(rows) > 0, table.key
            assert set(rows.columns) == set(declared[table.name]), table.key
            assert table.referenced_columns <= set(rows.columns), table.key
            width = len(rows.columns)
            assert all(len(row) == width for row in rows.rows)


def test_event_times_in_the_six_month_window_and_never_in_the_future(all_data):
    start = NOW - dt.timedelta(days=HISTORY_DAYS)
    for source_db, data in all_data.items():
        for table, rows in data.items():
            created = rows.columns.index("created_at")
            updated = rows.columns.index("updated_at")
            for row in rows.rows:
                assert row[updated] <= NOW and row[created] <= row[updated], (source_db, table)
            if table in ("transactions", "payments", "tags", "deliveries"):
                times = [row[created] for row in rows.rows]
                assert min(times) >= start - dt.timedelta(days=1)
                assert max(times) >= NOW - dt.timedelta(days=2)


def test_money_is_two_decimal_rand(all_data):
    rows = all_data["ledger_db"]["transactions"]
    amount, currency = rows.columns.index("amount"), rows.columns.index("currency")
    for row in rows.rows:
        assert isinstance(row[amount], Decimal) and row[amount] > 0
        assert row[amount] == row[amount].quantize(Decimal("0.01"))
        assert row[currency] == "ZAR"


def test_fx_rates_one_row_per_day_per_currency(all_data):
    rows = all_data["markets_db"]["fx_rates"]
    keys = [(row[0], row[1]) for row in rows.rows]
    assert len(keys) == len(set(keys))
    days = {day for day, _ in keys}
    assert len(days) == HISTORY_DAYS + 1
    assert max(days) == NOW.date()
    assert {currency for _, currency in keys} == {"ZAR", "USD", "EUR", "GBP", "BTC"}
    rate = rows.columns.index("zar_per_unit")
    usd = [row[rate] for row in rows.rows if row[1] == "USD"]
    assert all(Decimal("12") < value < Decimal("30") for value in usd)


def test_foreign_keys_inside_a_database_hold(all_data):
    data = all_data["bidbaas_db"]
    auction_ids = {row[0] for row in data["auctions"].rows}
    bids = data["bids"]
    bid_ids = {row[0] for row in bids.rows}
    assert {row[bids.columns.index("auction_id")] for row in bids.rows} <= auction_ids
    winners = data["winners"]
    assert {row[winners.columns.index("bid_id")] for row in winners.rows} <= bid_ids
    assert len({row[winners.columns.index("auction_id")] for row in winners.rows}) == len(winners)


def test_scale_multiplies_event_rows():
    small = make_world(scale=1, seed=1, now=NOW)
    large = make_world(scale=2, seed=1, now=NOW)
    assert len(large.users) == 2 * len(small.users)
    assert len(generate_database(large, "auth_db")["logins"]) == 2 * len(generate_database(small, "auth_db")["logins"])
    with pytest.raises(ValueError):
        make_world(scale=0)
