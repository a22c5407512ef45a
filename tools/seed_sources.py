"""Synthetic South African data for the source databases (developer tooling, not deployed).

Everything is generated from ``random.Random`` streams derived from one seed, so the same
(seed, scale, now) always gives the same rows. No Faker: names, streets and cities are listed here.

    apply_source_schemas(dsn_for_db, registry)      # include/sql/sources/<db>.sql, idempotent
    seed(dsn_for_db, registry, scale=1, seed=42)    # ~2,000 users, ~86k rows at scale 1
    live_traffic(dsn_for_db, registry, seconds=60, rows_per_second=20, seed=7)

Idempotency of ``seed``: a source database whose registry tables already hold rows is left
alone (nothing is truncated); pass ``reset=True`` to truncate that database's tables and reload.

CLI (DSNs from ``DA_SOURCE_DSN_TEMPLATE``, e.g. postgresql://postgres:pw@127.0.0.1:54104/{db}):

    python -m tools.seed_sources --scale 1 --seed 42 [--live SECONDS] [--rate N] [--reset]
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import logging
import math
import os
import random
import re
import sys
import time
import unicodedata
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

REPO_ROOT = Path(__file__).resolve().parents[1]
SOURCE_SQL_DIR = REPO_ROOT / "include" / "sql" / "sources"
DSN_TEMPLATE_ENV = "DA_SOURCE_DSN_TEMPLATE"

log = logging.getLogger("seed_sources")

DsnForDb = Callable[[str], str]
Row = dict[str, Any]

# =============================================================================== reference data

ENGLISH_FIRST_NAMES = (
    "James", "John", "Michael", "David", "Daniel", "Matthew", "Ryan", "Jason", "Mark", "Paul",
    "Liam", "Ethan", "Sarah", "Emma", "Jessica", "Michelle", "Nicole", "Lauren", "Megan",
    "Rebecca", "Claire", "Natalie", "Olivia", "Chloe",
)  # fmt: skip
ZULU_FIRST_NAMES = (
    "Sipho", "Bongani", "Sibusiso", "Mandla", "Nkosinathi", "Themba", "Sifiso", "Nhlanhla",
    "Musa", "Sanele", "Lindokuhle", "Mthokozisi", "Thandeka", "Nomvula", "Zanele", "Nokuthula",
    "Ayanda", "Mbali", "Nandi", "Zodwa", "Lindiwe", "Khanyisile", "Zinhle", "Thulisile",
)  # fmt: skip
XHOSA_FIRST_NAMES = (
    "Lwazi", "Siyabonga", "Lutho", "Athi", "Ayabonga", "Luyanda", "Unathi", "Bulelani",
    "Xolani", "Mzwandile", "Zola", "Lonwabo", "Nomsa", "Thandiwe", "Noluthando", "Anathi",
    "Siphokazi", "Lulama", "Zintle", "Yonela", "Akhona", "Sinazo", "Olwethu", "Asanda",
)  # fmt: skip
AFRIKAANS_FIRST_NAMES = (
    "Johan", "Pieter", "Jan", "Hendrik", "Willem", "Gert", "François", "Riaan", "Wynand",
    "Jacques", "Danie", "Schalk", "Anél", "Marike", "Elsabé", "Annelie", "Liezl", "Mariska",
    "Karlien", "Ilse", "Charné", "Carien", "Lize", "Ronel",
)  # fmt: skip
ENGLISH_LAST_NAMES = (
    "Smith", "Jones", "Williams", "Brown", "Taylor", "Wilson", "Johnson", "Walker", "Wright",
    "Thompson", "Robinson", "Green", "Hall", "Wood", "Clarke", "Harris", "Martin", "Cooper",
    "King", "Baker",
)  # fmt: skip
ZULU_LAST_NAMES = (
    "Dlamini", "Ndlovu", "Zulu", "Mkhize", "Khumalo", "Ngcobo", "Buthelezi", "Mthembu",
    "Nxumalo", "Shabalala", "Cele", "Zungu", "Ntuli", "Gumede", "Mnguni", "Sithole",
    "Hlongwane", "Mabaso", "Ngubane", "Xaba",
)  # fmt: skip
XHOSA_LAST_NAMES = (
    "Mbeki", "Sisulu", "Mandela", "Mlambo", "Makhaya", "Ntshona", "Jali", "Mqhayi", "Tshwete",
    "Goniwe", "Matanzima", "Sobukwe", "Dyantyi", "Mgqibelo", "Ndamase", "Gqirana", "Ngcukana",
    "Kota", "Mabandla", "Nqakula",
)  # fmt: skip
AFRIKAANS_LAST_NAMES = (
    "van der Merwe", "Botha", "du Plessis", "Pretorius", "Venter", "Nel", "Smit", "Coetzee",
    "Fourie", "Jacobs", "van Wyk", "Steyn", "Kruger", "Erasmus", "le Roux", "Swanepoel",
    "Joubert", "Visser", "du Toit", "Bezuidenhout",
)  # fmt: skip

# language code -> (first names, last names, share of users)
NAME_POOLS: dict[str, tuple[tuple[str, ...], tuple[str, ...], float]] = {
    "zu": (ZULU_FIRST_NAMES, ZULU_LAST_NAMES, 0.32),
    "xh": (XHOSA_FIRST_NAMES, XHOSA_LAST_NAMES, 0.22),
    "af": (AFRIKAANS_FIRST_NAMES, AFRIKAANS_LAST_NAMES, 0.22),
    "en": (ENGLISH_FIRST_NAMES, ENGLISH_LAST_NAMES, 0.24),
}

# Network prefixes after the leading 0 (Vodacom, MTN, Cell C, Telkom ranges): 6x / 7x / 8x.
SA_MOBILE_PREFIXES = (
    "60", "61", "62", "63", "64", "65", "66", "67", "68",
    "71", "72", "73", "74", "76", "78", "79",
    "81", "82", "83", "84",
)  # fmt: skip

EMAIL_DOMAINS = (
    "gmail.com", "outlook.com", "yahoo.co.za", "webmail.co.za", "icloud.com", "mweb.co.za",
    "telkomsa.net", "vodamail.co.za",
)  # fmt: skip

STREET_NAMES = (
    "Main", "Church", "Voortrekker", "Nelson Mandela", "Jan Smuts", "Oxford", "Beyers Naudé",
    "Vilakazi", "Long", "Bree", "Loop", "Commissioner", "Albertina Sisulu", "Steve Biko",
    "Walter Sisulu", "Kerk", "Rivonia", "Florida", "Victoria", "Durban",
)  # fmt: skip
STREET_SUFFIXES = ("Street", "Road", "Avenue", "Drive", "Crescent", "Lane")

# South Africa's rough bounding box (mainland), used to keep generated points inside the country.
SA_LATITUDE_RANGE = (-34.85, -22.13)
SA_LONGITUDE_RANGE = (16.45, 32.89)


@dataclass(frozen=True)
class City:
    name: str
    province: str
    latitude: float
    longitude: float
    postal_codes: tuple[int, int]  # inclusive range
    weight: float
    suburbs: tuple[str, ...]
    radius_km: float = 8.0


CITIES = (
    City("Johannesburg", "Gauteng", -26.2041, 28.0473, (2000, 2199), 14,
         ("Sandton", "Rosebank", "Melville", "Braamfontein", "Randburg", "Fourways")),
    City("Soweto", "Gauteng", -26.2485, 27.8540, (1804, 1868), 9,
         ("Orlando West", "Diepkloof", "Pimville", "Meadowlands", "Protea Glen")),
    City("Pretoria", "Gauteng", -25.7479, 28.2293, (1, 186), 9,
         ("Hatfield", "Arcadia", "Brooklyn", "Sunnyside", "Mamelodi", "Centurion")),
    City("Cape Town", "Western Cape", -33.9249, 18.4241, (7700, 8099), 12,
         ("Observatory", "Woodstock", "Gugulethu", "Khayelitsha", "Claremont", "Bellville"),
         radius_km=5.0),
    City("Stellenbosch", "Western Cape", -33.9321, 18.8602, (7599, 7613), 2,
         ("Die Boord", "Idas Valley", "Cloetesville")),
    City("Durban", "KwaZulu-Natal", -29.8587, 31.0218, (4001, 4099), 10,
         ("Berea", "Umlazi", "Morningside", "Glenwood", "Musgrave"), radius_km=6.0),
    City("Pietermaritzburg", "KwaZulu-Natal", -29.6006, 30.3794, (3201, 3299), 3,
         ("Scottsville", "Edendale", "Hayfields")),
    City("Gqeberha", "Eastern Cape", -33.9608, 25.6022, (6001, 6070), 4,
         ("Summerstrand", "Walmer", "New Brighton"), radius_km=5.0),
    City("East London", "Eastern Cape", -33.0292, 27.8546, (5201, 5247), 3,
         ("Vincent", "Quigney", "Mdantsane"), radius_km=5.0),
    City("Mthatha", "Eastern Cape", -31.5889, 28.7844, (5099, 5100), 2,
         ("Northcrest", "Ncambedlana")),
    City("Bloemfontein", "Free State", -29.0852, 26.1596, (9301, 9339), 4,
         ("Westdene", "Universitas", "Mangaung")),
    City("Polokwane", "Limpopo", -23.9045, 29.4689, (699, 799), 3,
         ("Bendor", "Seshego", "Westenburg")),
    City("Mbombela", "Mpumalanga", -25.4658, 30.9853, (1200, 1201), 2,
         ("Sonheuwel", "KaNyamazane", "West Acres")),
    City("Kimberley", "Northern Cape", -28.7282, 24.7499, (8300, 8345), 1,
         ("Belgravia", "Galeshewe")),
    City("Rustenburg", "North West", -25.6676, 27.2421, (299, 300), 2,
         ("Geelhoutpark", "Tlhabane")),
    City("Mahikeng", "North West", -25.8652, 25.6442, (2735, 2745), 1,
         ("Mmabatho", "Montshiwa")),
)  # fmt: skip
CITIES_BY_NAME = {city.name: city for city in CITIES}
_CITY_CUMULATIVE_WEIGHTS = tuple(sum(city.weight for city in CITIES[: index + 1]) for index in range(len(CITIES)))

USER_AGENTS = (
    "Mozilla/5.0 (Linux; Android 13; SM-A145F) AppleWebKit/537.36 Chrome/120.0 Mobile",
    "Mozilla/5.0 (Linux; Android 12; Redmi Note 11) AppleWebKit/537.36 Chrome/118.0 Mobile",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/121.0 Safari/537.36",
    "TGN-App/4.12.0 (Android 11; Hisense Infinity H50)",
)
# First octets of public ranges allocated in Africa (AFRINIC) and used by SA ISPs.
PUBLIC_IP_FIRST_OCTETS = (41, 102, 105, 154, 165, 196, 197)

FX_CURRENCIES = ("ZAR", "USD", "EUR", "GBP", "BTC")
FX_START_ZAR_PER_UNIT = {
    "ZAR": 1.0,
    "USD": 18.35,
    "EUR": 19.90,
    "GBP": 23.20,
    "BTC": 1_150_000.0,
}
FX_DAILY_VOLATILITY = {"ZAR": 0.0, "USD": 0.006, "EUR": 0.005, "GBP": 0.005, "BTC": 0.03}

# Rows per table at scale 1 (multiplied by scale; the fixed reference tables are not).
USERS_PER_SCALE = 2_000
EVENT_ROWS_PER_SCALE = {
    "auth_db.logins": 6_000,
    "ledger_db.transactions": 6_000,
    "ledger_db.holds": 600,
    "sdpkt_db.payments": 5_000,
    "bidbaas_db.auctions": 800,
    "tagme_db.tags": 4_000,
    "txtme_db.messages": 6_000,
    "takemehome_db.trips": 3_000,
    "whatwewant_db.wishes": 1_000,
    "whatwewant_db.votes": 4_000,
    "slepton_db.bookings": 1_500,
    "bigbruh_db.page_views": 5_000,
    "butler_db.tasks": 1_500,
    "trustseal_db.reviews": 2_000,
    "transit_db.taps": 5_000,
    "mesh_db.traffic_samples": 5_000,
    "notifications_db.deliveries": 6_000,
}
HISTORY_DAYS = 182
SOFT_DELETED_USER_SHARE = 0.03

# =============================================================================== pure helpers


def luhn_check_digit(payload: str) -> int:
    """Luhn check digit that makes ``payload + digit`` pass the Luhn test."""
    if not payload.isdigit():
        raise ValueError(f"payload must be digits, got {payload!r}")
    total = 0
    for position, char in enumerate(reversed(payload)):
        digit = int(char)
        if position % 2 == 0:  # doubled: the check digit will sit to its right
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10


def sa_id_luhn_digit(first_twelve_digits: str) -> int:
    """Check digit Z of a South African ID number YYMMDD SSSS C A Z."""
    if len(first_twelve_digits) != 12 or not first_twelve_digits.isdigit():
        raise ValueError(f"need the first 12 digits of an SA ID, got {first_twelve_digits!r}")
    return luhn_check_digit(first_twelve_digits)


def _sa_id_birth_date(yymmdd: str) -> dt.date | None:
    year, month, day = int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:6])
    for century in (1900, 2000):
        try:
            return dt.date(century + year, month, day)
        except ValueError:
            continue
    return None


def is_valid_sa_id(value: str) -> bool:
    """13 digits, a real birth date, citizenship 0 (citizen) or 1 (resident), valid Luhn digit."""
    if not isinstance(value, str) or len(value) != 13 or not value.isdigit():
        return False
    if _sa_id_birth_date(value[:6]) is None:
        return False
    if value[10] not in "01":
        return False
    return sa_id_luhn_digit(value[:12]) == int(value[12])


def sa_id_birth_date(value: str) -> dt.date | None:
    """Birth date encoded in an SA ID (century guessed: 19xx unless that is in the future)."""
    if not is_valid_sa_id(value):
        return None
    year, month, day = int(value[:2]), int(value[2:4]), int(value[4:6])
    this_year = dt.date.today().year % 100
    century = 2000 if year <= this_year else 1900
    return dt.date(century + year, month, day)


def make_sa_id_number(rng: random.Random, birth_date: dt.date, *, female: bool, citizen: bool = True) -> str:
    """YYMMDD SSSS C A Z: SSSS 0000-4999 female / 5000-9999 male, C 0/1, A 8, Z Luhn."""
    sequence = rng.randint(0, 4999) + (0 if female else 5000)
    first_twelve = f"{birth_date:%y%m%d}{sequence:04d}{0 if citizen else 1}8"
    return first_twelve + str(sa_id_luhn_digit(first_twelve))


def make_sa_mobile(rng: random.Random, *, international: bool | None = None) -> str:
    """+27XXXXXXXXX or 0XXXXXXXXX: 9 digits after the prefix, starting 6x / 7x / 8x."""
    if international is None:
        international = rng.random() < 0.5
    national_number = rng.choice(SA_MOBILE_PREFIXES) + f"{rng.randrange(10_000_000):07d}"
    return ("+27" if international else "0") + national_number


_SA_MOBILE_PATTERN = re.compile(r"^(?:\+27|0)(\d{9})$")


def is_valid_sa_mobile(value: str) -> bool:
    match = _SA_MOBILE_PATTERN.match(value or "")
    return bool(match) and match.group(1)[:2] in SA_MOBILE_PREFIXES


def normalise_sa_mobile(value: str) -> str:
    """E.164 (+27...) form of a valid SA mobile number."""
    match = _SA_MOBILE_PATTERN.match(value or "")
    if not match or not is_valid_sa_mobile(value):
        raise ValueError(f"not an SA mobile number: {value!r}")
    return "+27" + match.group(1)


def ascii_fold(text: str) -> str:
    """'Anél du Plessis' -> 'Anel du Plessis'."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def email_local_part(rng: random.Random, first_name: str, last_name: str) -> str:
    first = re.sub(r"[^a-z]", "", ascii_fold(first_name).lower())
    last = re.sub(r"[^a-z]", "", ascii_fold(last_name).lower())
    style = rng.randrange(4)
    if style == 0:
        return f"{first}.{last}"
    if style == 1:
        return f"{first}{last}{rng.randint(1, 99)}"
    if style == 2:
        return f"{first[0]}{last}"
    return f"{first}_{last}{rng.randint(70, 99)}"


def make_email(rng: random.Random, first_name: str, last_name: str) -> str:
    return f"{email_local_part(rng, first_name, last_name)}@{rng.choice(EMAIL_DOMAINS)}"


def pick_city(rng: random.Random) -> City:
    point = rng.random() * _CITY_CUMULATIVE_WEIGHTS[-1]
    return CITIES[bisect.bisect_right(_CITY_CUMULATIVE_WEIGHTS, point)]


def point_near(rng: random.Random, latitude: float, longitude: float, radius_km: float) -> tuple[Decimal, Decimal]:
    """Uniform random point within radius_km, clipped to South Africa, 6 decimal places."""
    distance = radius_km * math.sqrt(rng.random())
    bearing = rng.random() * 2 * math.pi
    lat = latitude + distance * math.cos(bearing) / 111.0
    lon = longitude + distance * math.sin(bearing) / (111.0 * math.cos(math.radians(latitude)))
    lat = min(max(lat, SA_LATITUDE_RANGE[0]), SA_LATITUDE_RANGE[1])
    lon = min(max(lon, SA_LONGITUDE_RANGE[0]), SA_LONGITUDE_RANGE[1])
    return Decimal(f"{lat:.6f}"), Decimal(f"{lon:.6f}")


def point_in_city(rng: random.Random, city: City) -> tuple[Decimal, Decimal]:
    return point_near(rng, city.latitude, city.longitude, city.radius_km)


def make_street_address(rng: random.Random, city: City) -> str:
    street = f"{rng.randint(1, 480)} {rng.choice(STREET_NAMES)} {rng.choice(STREET_SUFFIXES)}"
    if rng.random() < 0.15:
        street = f"Unit {rng.randint(1, 60)}, {street}"
    return f"{street}, {rng.choice(city.suburbs)}"


def make_postal_code(rng: random.Random, city: City) -> str:
    return f"{rng.randint(*city.postal_codes):04d}"


def make_device_id(rng: random.Random) -> str:
    """Android ID (16 hex) or iOS identifierForVendor (upper-case UUID)."""
    if rng.random() < 0.7:
        return f"{rng.getrandbits(64):016x}"
    return str(make_uuid(rng)).upper()


def make_ipv4(rng: random.Random) -> str:
    return f"{rng.choice(PUBLIC_IP_FIRST_OCTETS)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def make_uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def money(rng: random.Random, median: float, spread: float = 0.8, minimum: float = 1.0) -> Decimal:
    """Log-normally distributed rand amount with two decimals."""
    value = max(minimum, median * math.exp(rng.gauss(0.0, spread)))
    return Decimal(f"{value:.2f}")


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(a))


def random_time_between(rng: random.Random, start: dt.datetime, end: dt.datetime) -> dt.datetime:
    if end <= start:
        return end
    seconds = (end - start).total_seconds()
    return (start + dt.timedelta(seconds=rng.random() * seconds)).replace(microsecond=0)


@dataclass(frozen=True)
class Person:
    first_name: str
    last_name: str
    language: str
    female: bool
    date_of_birth: dt.date
    sa_id_number: str
    email: str
    phone: str
    city: City
    address_line: str
    postal_code: str
    latitude: Decimal
    longitude: Decimal
    device_id: str
    ip_address: str

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


def make_person(rng: random.Random, today: dt.date) -> Person:
    languages = tuple(NAME_POOLS)
    language = rng.choices(languages, weights=[NAME_POOLS[code][2] for code in languages])[0]
    first_names, last_names, _ = NAME_POOLS[language]
    if rng.random() < 0.1:  # mixed families
        last_names = NAME_POOLS[rng.choice(languages)][1]
    first_name = rng.choice(first_names)
    last_name = rng.choice(last_names)
    female = rng.random() < 0.5
    age_days = rng.randint(18 * 365 + 5, 75 * 365)
    date_of_birth = today - dt.timedelta(days=age_days)
    city = pick_city(rng)
    latitude, longitude = point_in_city(rng, city)
    return Person(
        first_name=first_name,
        last_name=last_name,
        language=language,
        female=female,
        date_of_birth=date_of_birth,
        sa_id_number=make_sa_id_number(rng, date_of_birth, female=female, citizen=rng.random() < 0.93),
        email=make_email(rng, first_name, last_name),
        phone=make_sa_mobile(rng),
        city=city,
        address_line=make_street_address(rng, city),
        postal_code=make_postal_code(rng, city),
        latitude=latitude,
        longitude=longitude,
        device_id=make_device_id(rng),
        ip_address=make_ipv4(rng),
    )


# =============================================================================== the world


@dataclass(frozen=True)
class SeedUser:
    id: int
    person: Person
    created_at: dt.datetime
    deleted_at: dt.datetime | None
    active_until: dt.datetime


@dataclass
class TableRows:
    """Rows of one table, column order fixed by the first row."""

    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]

    @classmethod
    def from_dicts(cls, rows: list[Row]) -> TableRows:
        if not rows:
            return cls((), [])
        columns = tuple(rows[0])
        return cls(columns, [tuple(row[column] for column in columns) for row in rows])

    def __len__(self) -> int:
        return len(self.rows)


@dataclass
class World:
    """Shared state for one generation run: the users and the time window."""

    seed: int
    scale: int
    now: dt.datetime
    users: list[SeedUser] = field(default_factory=list)

    @property
    def start(self) -> dt.datetime:
        return self.now - dt.timedelta(days=HISTORY_DAYS)

    def rng(self, stream: str) -> random.Random:
        return random.Random(f"{self.seed}:{stream}")

    def count(self, key: str) -> int:
        return EVENT_ROWS_PER_SCALE[key] * self.scale

    def pick_user(self, rng: random.Random, *, active_only: bool = False) -> SeedUser:
        """Skewed towards early (older, busier) users."""
        while True:
            user = self.users[int(len(self.users) * rng.random() ** 1.6)]
            if not active_only or user.deleted_at is None:
                return user

    def event_time(self, rng: random.Random, user: SeedUser | None = None) -> dt.datetime:
        if user is None:
            return random_time_between(rng, self.start, self.now)
        return random_time_between(rng, max(user.created_at, self.start), user.active_until)

    def after_signup(self, rng: random.Random, user: SeedUser, max_minutes: float) -> dt.datetime:
        """A moment soon after the user signed up, while the account was still open."""
        return min(self.later(rng, user.created_at, max_minutes), user.active_until)

    def later(self, rng: random.Random, at: dt.datetime, max_minutes: float) -> dt.datetime:
        """A moment after ``at``, never after now."""
        return min(self.now, at + dt.timedelta(minutes=rng.random() * max_minutes)).replace(microsecond=0)


def build_users(seed: int, scale: int, now: dt.datetime) -> list[SeedUser]:
    rng = random.Random(f"{seed}:users")
    start = now - dt.timedelta(days=HISTORY_DAYS)
    users = []
    seen_emails: set[str] = set()
    for user_id in range(1, USERS_PER_SCALE * scale + 1):
        person = make_person(rng, now.date())
        email = person.email
        while email in seen_emails:
            local, domain = email.split("@")
            email = f"{local}{rng.randint(1, 9)}@{domain}"
        seen_emails.add(email)
        person = Person(**{**person.__dict__, "email": email})
        if rng.random() < 0.4:  # signed up before the event window
            created_at = random_time_between(rng, start - dt.timedelta(days=540), start)
        else:
            created_at = random_time_between(rng, start, now - dt.timedelta(hours=1))
        deleted_at = None
        if rng.random() < SOFT_DELETED_USER_SHARE:
            deleted_at = random_time_between(rng, max(created_at, start), now)
        users.append(SeedUser(user_id, person, created_at, deleted_at, active_until=deleted_at or now))
    users.sort(key=lambda user: user.created_at)
    # ids follow sign-up order, as an identity column would
    return [
        SeedUser(index, u.person, u.created_at, u.deleted_at, u.active_until) for index, u in enumerate(users, start=1)
    ]


# =============================================================================== row builders
# Each returns a dict in the table's column order. Seed passes ``id``; live traffic omits it.


def _with_id(row_id: int | None, row: Row) -> Row:
    return row if row_id is None else {"id": row_id, **row}


def user_row(user: SeedUser) -> Row:
    person = user.person
    updated_at = user.deleted_at or user.created_at
    return {
        "id": user.id,
        "public_id": uuid.UUID(int=random.Random(f"public_id:{user.id}").getrandbits(128), version=4),
        "first_name": person.first_name,
        "last_name": person.last_name,
        "email": person.email,
        "phone": person.phone,
        "sa_id_number": person.sa_id_number,
        "date_of_birth": person.date_of_birth,
        "address_line": person.address_line,
        "city": person.city.name,
        "province": person.city.province,
        "postal_code": person.postal_code,
        "country_code": "ZA",
        "latitude": person.latitude,
        "longitude": person.longitude,
        "preferred_language": person.language,
        "device_id": person.device_id,
        "last_ip": person.ip_address,
        "status": "closed" if user.deleted_at else "active",
        "marketing_opt_in": user.id % 3 == 0,
        "created_at": user.created_at,
        "updated_at": updated_at,
        "deleted_at": user.deleted_at,
    }


def login_row(rng: random.Random, user: SeedUser, at: dt.datetime, row_id: int | None = None):
    person = user.person
    return _with_id(
        row_id,
        {
            "user_id": user.id,
            "succeeded": rng.random() < 0.93,
            "method": rng.choices(("password", "otp", "biometric"), (5, 3, 2))[0],
            "ip_address": person.ip_address if rng.random() < 0.7 else make_ipv4(rng),
            "device_id": person.device_id if rng.random() < 0.85 else make_device_id(rng),
            "user_agent": rng.choice(USER_AGENTS),
            "created_at": at,
            "updated_at": at,
        },
    )


TXN_TYPES = ("deposit", "withdrawal", "transfer_in", "transfer_out", "card_payment", "fee", "refund")
TXN_TYPE_WEIGHTS = (12, 10, 10, 12, 40, 12, 4)
TXN_MEDIAN_AMOUNT = {
    "deposit": 1500,
    "withdrawal": 800,
    "transfer_in": 600,
    "transfer_out": 500,
    "card_payment": 220,
    "fee": 12,
    "refund": 180,
}
MERCHANT_WORDS = ("Checkers", "Pick n Pay", "Spar", "Woolworths", "Shoprite", "Clicks", "Engen",
                  "Nando's", "Vodacom", "Takealot", "Boxer", "Dis-Chem")  # fmt: skip


def ledger_account_row(rng: random.Random, user: SeedUser, at: dt.datetime, row_id: int | None = None) -> Row:
    return _with_id(
        row_id,
        {
            "user_id": user.id,
            "account_number": f"{rng.randint(10**9, 10**10 - 1)}",
            "account_type": rng.choices(("cheque", "savings", "wallet"), (5, 2, 3))[0],
            "currency": "ZAR",
            "status": "open",
            "opened_at": at,
            "closed_at": None,
            "created_at": at,
            "updated_at": at,
        },
    )


def ledger_transaction_row(
    rng: random.Random,
    world: World,
    account: Row,
    user: SeedUser,
    at: dt.datetime,
    row_id: int | None = None,
    *,
    live: bool = False,
) -> Row:
    txn_type = rng.choices(TXN_TYPES, TXN_TYPE_WEIGHTS)[0]
    if txn_type == "fee":
        amount = Decimal(rng.choice(("5.00", "7.50", "12.00", "25.00")))
    else:
        amount = money(rng, TXN_MEDIAN_AMOUNT[txn_type], 0.9)
    if txn_type == "card_payment":
        description = f"{rng.choice(MERCHANT_WORDS)} {user.person.city.name}"
    elif txn_type in ("transfer_in", "transfer_out"):
        other = world.pick_user(rng).person
        description = f"Transfer {'from' if txn_type == 'transfer_in' else 'to'} {other.full_name}"
    elif txn_type == "fee":
        description = "Monthly account fee" if rng.random() < 0.5 else "Cash withdrawal fee"
    else:
        description = txn_type.replace("_", " ").capitalize()
    if live:
        status, posted_at, updated_at = "pending", None, at
    else:
        status = rng.choices(("posted", "pending", "failed"), (95, 2, 3))[0]
        posted_at = world.later(rng, at, 3) if status == "posted" else None
        updated_at = posted_at or world.later(rng, at, 1)
    return _with_id(
        row_id,
        {
            "txn_ref": make_uuid(rng),
            "account_id": account["id"],
            "user_id": user.id,
            "txn_type": txn_type,
            "status": status,
            "amount": amount,
            "currency": "ZAR",
            "description": description,
            "channel": rng.choices(("app", "ussd", "web", "pos", "eft"), (6, 1, 2, 4, 2))[0],
            "metadata": {"app_version": f"4.{rng.randint(8, 12)}.{rng.randint(0, 9)}"},
            "posted_at": posted_at,
            "created_at": at,
            "updated_at": updated_at,
        },
    )


def ledger_hold_row(
    rng: random.Random,
    world: World,
    account: Row,
    transaction: Row | None,
    at: dt.datetime,
    row_id: int | None = None,
) -> Row:
    amount = transaction["amount"] if transaction else money(rng, 300)
    expires_at = at + dt.timedelta(days=7)
    if transaction is not None:
        status, released_at = "captured", world.later(rng, at, 60 * 24)
    elif expires_at < world.now:
        status, released_at = rng.choice((("released", world.later(rng, at, 2880)), ("expired", expires_at)))
    else:
        status, released_at = "active", None
    return _with_id(
        row_id,
        {
            "account_id": account["id"],
            "user_id": account["user_id"],
            "transaction_id": transaction["id"] if transaction else None,
            "amount": amount,
            "currency": "ZAR",
            "reason": rng.choice(("card_authorisation", "fuel_pre_auth", "hotel_deposit", "dispute")),
            "status": status,
            "expires_at": expires_at,
            "released_at": released_at,
            "created_at": at,
            "updated_at": released_at or at,
        },
    )


def ledger_reversal_row(
    rng: random.Random, world: World, transaction: Row, at: dt.datetime, row_id: int | None = None
) -> Row:
    return _with_id(
        row_id,
        {
            "transaction_id": transaction["id"],
            "user_id": transaction["user_id"],
            "amount": transaction["amount"],
            "currency": transaction["currency"],
            "reason": rng.choice(
                (
                    "Customer disputes debit order",
                    "Duplicate card charge",
                    "Merchant refund issued",
                    "Fraud: card reported stolen",
                    "Payment sent to wrong account",
                )
            ),
            "initiated_by": rng.choices(("customer", "ops", "system"), (5, 3, 2))[0],
            "created_at": at,
            "updated_at": at,
        },
    )


def sdpkt_wallet_row(rng: random.Random, user: SeedUser, at: dt.datetime, row_id: int | None = None):
    return _with_id(
        row_id,
        {
            "wallet_code": make_uuid(rng),
            "user_id": user.id,
            "currency": "ZAR",
            "status": "closed" if user.deleted_at else rng.choices(("active", "frozen"), (98, 2))[0],
            "created_at": at,
            "updated_at": user.deleted_at or at,
        },
    )


def sdpkt_payment_row(
    rng: random.Random,
    world: World,
    wallet: Row,
    user: SeedUser,
    merchant: tuple[int, str],
    at: dt.datetime,
    row_id: int | None = None,
    *,
    live: bool = False,
) -> Row:
    latitude, longitude = point_in_city(rng, user.person.city)
    status = "authorised" if live else rng.choices(("settled", "declined", "refunded"), (92, 5, 3))[0]
    return _with_id(
        row_id,
        {
            "payment_ref": make_uuid(rng),
            "wallet_id": wallet["id"],
            "user_id": user.id,
            "merchant_user_id": merchant[0],
            "merchant_name": merchant[1],
            "amount": money(rng, 120, 0.9),
            "currency": "ZAR",
            "status": status,
            "channel": rng.choices(("qr", "nfc", "link", "ussd"), (5, 3, 2, 1))[0],
            "device_id": user.person.device_id,
            "ip_address": user.person.ip_address if rng.random() < 0.8 else make_ipv4(rng),
            "latitude": latitude,
            "longitude": longitude,
            "metadata": {"sdk": f"sdpkt-{rng.choice(('android', 'ios', 'web'))}"},
            "created_at": at,
            "updated_at": at if live else world.later(rng, at, 30),
        },
    )


def sdpkt_hold_row(rng: random.Random, world: World, payment: Row, at: dt.datetime, row_id: int | None = None) -> Row:
    expires_at = at + dt.timedelta(days=3)
    status = "active" if expires_at > world.now else rng.choice(("captured", "released"))
    return _with_id(
        row_id,
        {
            "wallet_id": payment["wallet_id"],
            "user_id": payment["user_id"],
            "payment_id": payment["id"],
            "amount": payment["amount"],
            "currency": "ZAR",
            "status": status,
            "expires_at": expires_at,
            "created_at": at,
            "updated_at": at if status == "active" else world.later(rng, at, 60 * 24),
        },
    )


AUCTION_ITEMS = {
    "electronics": ("Samsung Galaxy A54", "iPhone 13 128GB", "PlayStation 5", "JBL speaker"),
    "vehicles": ("2014 VW Polo Vivo", "Toyota Corolla 1.6", "Honda Ballade", "Yamaha scooter"),
    "home": ("Defy fridge", "6-seater dining set", "Queen bed base", "Solar inverter 5kW"),
    "fashion": ("Sneakers size 9", "Leather jacket", "Vintage Springbok jersey", "Handbag"),
    "collectables": ("Kruger rand coin", "Signed Bafana Bafana ball", "Vinyl record lot"),
}


def bidbaas_auction_row(
    rng: random.Random, world: World, seller: SeedUser, at: dt.datetime, row_id: int | None = None,
    *, live: bool = False,
) -> Row:  # fmt: skip
    category = rng.choice(tuple(AUCTION_ITEMS))
    title = rng.choice(AUCTION_ITEMS[category])
    if live:
        starts_at = at
        ends_at = at + dt.timedelta(minutes=rng.uniform(2, 10))
    else:
        starts_at = at + dt.timedelta(hours=rng.uniform(0, 36))
        ends_at = starts_at + dt.timedelta(days=rng.uniform(1, 7))
    if rng.random() < 0.05:
        status = "cancelled"
    elif starts_at > world.now:
        status = "scheduled"
    elif ends_at > world.now:
        status = "live"
    else:
        status = "closed"
    return _with_id(
        row_id,
        {
            "seller_user_id": seller.id,
            "title": title,
            "description": f"{title}, {rng.choice(('good condition', 'as new', 'used'))}. "
            f"Collection in {seller.person.city.name} or courier. Call {seller.person.first_name}.",
            "category": category,
            "amount": money(rng, 900 if category != "vehicles" else 45000, 0.6),
            "currency": "ZAR",
            "status": status,
            "starts_at": starts_at.replace(microsecond=0),
            "ends_at": ends_at.replace(microsecond=0),
            "created_at": at,
            "updated_at": at,
        },
    )


def bidbaas_bid_row(
    rng: random.Random,
    auction: Row,
    bidder: SeedUser,
    amount: Decimal,
    at: dt.datetime,
    row_id: int | None = None,
) -> Row:
    return _with_id(
        row_id,
        {
            "auction_id": auction["id"],
            "user_id": bidder.id,
            "amount": amount,
            "currency": "ZAR",
            "device_id": bidder.person.device_id,
            "ip_address": bidder.person.ip_address if rng.random() < 0.8 else make_ipv4(rng),
            "created_at": at,
            "updated_at": at,
        },
    )


def bidbaas_winner_row(auction: Row, bid: Row, row_id: int | None = None) -> Row:
    return _with_id(
        row_id,
        {
            "auction_id": auction["id"],
            "bid_id": bid["id"],
            "user_id": bid["user_id"],
            "amount": bid["amount"],
            "currency": bid["currency"],
            "won_at": auction["ends_at"],
            "created_at": auction["ends_at"],
            "updated_at": auction["ends_at"],
        },
    )


def bidbaas_payout_row(rng: random.Random, world: World, auction: Row, winner: Row, row_id: int | None = None) -> Row:
    fee_percent = Decimal(rng.choice(("5.00", "7.50", "10.00")))
    amount = (winner["amount"] * (100 - fee_percent) / 100).quantize(Decimal("0.01"))
    won_at = winner["won_at"]
    paid = won_at < world.now - dt.timedelta(days=2)
    paid_at = won_at + dt.timedelta(days=2, hours=rng.uniform(0, 20)) if paid else None
    paid_at = min(paid_at, world.now).replace(microsecond=0) if paid_at else None
    return _with_id(
        row_id,
        {
            "auction_id": auction["id"],
            "seller_user_id": auction["seller_user_id"],
            "amount": amount,
            "currency": "ZAR",
            "fee_percent": fee_percent,
            "status": "paid" if paid else "pending",
            "paid_at": paid_at,
            "created_at": won_at,
            "updated_at": paid_at or won_at,
        },
    )


VENUE_KINDS = {
    "shisanyama": ("{} Shisanyama", "Chesa Nyama {}"),
    "coffee": ("Bean There {}", "{} Roastery"),
    "bar": ("{} Tavern", "The {} Pub"),
    "park": ("{} Park", "{} Botanical Garden"),
    "mall": ("{} Mall", "{} Junction"),
}


def tagme_tag_row(rng: random.Random, user: SeedUser, venue: Row, at: dt.datetime, row_id: int | None = None) -> Row:
    latitude, longitude = point_near(rng, float(venue["latitude"]), float(venue["longitude"]), 0.2)
    note = None
    if rng.random() < 0.35:
        note = rng.choice(
            (
                "Best braai in town!",
                f"Chilling with {rng.choice(ZULU_FIRST_NAMES)} and the crew",
                "Load shedding but the vibes are still good",
                "Came for the coffee, stayed for the view",
                f"Birthday lunch for {rng.choice(AFRIKAANS_FIRST_NAMES)}",
            )
        )
    return _with_id(
        row_id,
        {
            "user_id": user.id,
            "venue_id": venue["id"],
            "note": note,
            "visibility": rng.choices(("public", "friends", "private"), (3, 6, 1))[0],
            "latitude": latitude,
            "longitude": longitude,
            "device_id": user.person.device_id,
            "created_at": at,
            "updated_at": at,
        },
    )


MESSAGE_BODIES = (
    "Hey, are we still on for later?",
    "Sharp sharp, I'm on my way",
    "Call me when you land",
    "Ek is amper daar",
    "Ngiyabonga kakhulu!",
    "Molo, uphilile?",
    "Send me the account number please",
    "Load shedding again, phone about to die",
    "Happy birthday!!",
    "Meeting moved to 3pm",
)


def txtme_message_row(
    rng: random.Random, world: World, sender: SeedUser, recipient_phone: str, at: dt.datetime,
    row_id: int | None = None, *, live: bool = False,
) -> Row:  # fmt: skip
    delivered_at = None if live else world.later(rng, at, 2)
    return _with_id(
        row_id,
        {
            "conversation_id": uuid.UUID(int=random.Random(f"conv:{sender.id}:{recipient_phone}").getrandbits(128)),
            "sender_user_id": sender.id,
            "recipient_phone": recipient_phone,
            "body": rng.choice(MESSAGE_BODIES),
            "message_type": rng.choices(("text", "image", "voice"), (8, 1, 1))[0],
            "status": "sent" if live else rng.choices(("read", "delivered", "failed"), (7, 2, 1))[0],
            "sent_at": at,
            "delivered_at": delivered_at,
            "created_at": at,
            "updated_at": delivered_at or at,
        },
    )


def takemehome_trip_row(
    rng: random.Random, world: World, rider: SeedUser, driver: Row | None, at: dt.datetime,
    row_id: int | None = None, *, live: bool = False,
) -> Row:  # fmt: skip
    city = rider.person.city
    pickup_lat, pickup_lon = point_in_city(rng, city)
    dropoff_lat, dropoff_lon = point_in_city(rng, city)
    distance = max(1.0, 1.3 * haversine_km(pickup_lat, pickup_lon, dropoff_lat, dropoff_lon))
    if live:
        status, completed_at = "requested", None
    else:
        status = rng.choices(("completed", "cancelled"), (88, 12))[0]
        completed_at = world.later(rng, at, 10 + distance * 3) if status == "completed" else None
    return _with_id(
        row_id,
        {
            "rider_user_id": rider.id,
            "driver_id": driver["id"] if driver and status != "cancelled" else None,
            "pickup_address": make_street_address(rng, city),
            "pickup_latitude": pickup_lat,
            "pickup_longitude": pickup_lon,
            "dropoff_address": make_street_address(rng, city),
            "dropoff_latitude": dropoff_lat,
            "dropoff_longitude": dropoff_lon,
            "distance_km": Decimal(f"{distance:.2f}"),
            "amount": Decimal(f"{15 + 9.5 * distance:.2f}") if status != "cancelled" else None,
            "currency": "ZAR",
            "status": status,
            "requested_at": at,
            "completed_at": completed_at,
            "created_at": at,
            "updated_at": completed_at or at,
        },
    )


WISH_TOPICS = (
    ("Padel court in {}", ("sport", "community")),
    ("Halaal food truck in {}", ("food", "halaal")),
    ("24h pharmacy near {}", ("health",)),
    ("Reliable fibre in {}", ("internet", "infrastructure")),
    ("Kids coding club in {}", ("education", "kids")),
    ("Vegan braai spot in {}", ("food", "vegan")),
    ("Safer taxi rank in {}", ("transport", "safety")),
)


def whatwewant_wish_row(rng: random.Random, user: SeedUser, at: dt.datetime, row_id: int | None = None) -> Row:
    template, tags = rng.choice(WISH_TOPICS)
    city = user.person.city.name
    return _with_id(
        row_id,
        {
            "user_id": user.id,
            "title": template.format(city),
            "details": f"I live in {user.person.address_line.split(', ')[-1]} and would use this "
            f"every week. Contact me on {user.person.phone}.",
            "tags": list(tags),
            "city": city,
            "amount": money(rng, 250, 0.7) if rng.random() < 0.6 else None,
            "currency": "ZAR",
            "status": rng.choices(("open", "fulfilled", "closed"), (8, 1, 1))[0],
            "created_at": at,
            "updated_at": at,
        },
    )


def whatwewant_vote_row(
    rng: random.Random, user: SeedUser, wish: Row, at: dt.datetime, row_id: int | None = None
) -> Row:
    return _with_id(
        row_id,
        {
            "wish_id": wish["id"],
            "user_id": user.id,
            "value": 1 if rng.random() < 0.85 else -1,
            "created_at": at,
            "updated_at": at,
        },
    )


def slepton_booking_row(
    rng: random.Random, guest: SeedUser, listing: Row, at: dt.datetime, row_id: int | None = None
) -> Row:
    check_in = (at + dt.timedelta(days=rng.randint(1, 45))).date()
    nights = rng.choices((1, 2, 3, 5, 7), (3, 5, 3, 2, 1))[0]
    return _with_id(
        row_id,
        {
            "listing_id": listing["id"],
            "guest_user_id": guest.id,
            "check_in": check_in,
            "check_out": check_in + dt.timedelta(days=nights),
            "guests": rng.randint(1, listing["max_guests"]),
            "amount": listing["amount"] * nights,
            "currency": "ZAR",
            "status": rng.choices(("confirmed", "cancelled"), (9, 1))[0],
            "created_at": at,
            "updated_at": at,
        },
    )


PAGE_PATHS = ("/", "/overview", "/apps/bidbaas", "/apps/sdpkt", "/apps/tagme", "/alerts",
              "/settings", "/analytics", "/apps/takemehome")  # fmt: skip


def bigbruh_page_view_row(rng: random.Random, user: SeedUser, at: dt.datetime, row_id: int | None = None) -> Row:
    return _with_id(
        row_id,
        {
            "user_id": user.id,
            "path": rng.choice(PAGE_PATHS),
            "referrer": rng.choice((None, "/", "/overview", "https://www.google.com/")),
            "ip_address": user.person.ip_address,
            "device_id": user.person.device_id,
            "user_agent": rng.choice(USER_AGENTS),
            "duration_ms": int(rng.expovariate(1 / 15000)),
            "created_at": at,
            "updated_at": at,
        },
    )


def kyc_verification_row(
    rng: random.Random, world: World, user: SeedUser, at: dt.datetime, row_id: int | None = None
) -> Row:
    status = rng.choices(("approved", "rejected", "pending", "expired"), (80, 8, 7, 5))[0]
    decided_at = None if status == "pending" else world.later(rng, at, 60 * 48)
    note = None
    if status == "rejected":
        note = rng.choice(
            (
                f"Selfie does not match ID photo of {user.person.first_name}",
                "Document blurry, ask customer to re-upload",
                "ID number does not match Home Affairs record",
            )
        )
    return _with_id(
        row_id,
        {
            "user_id": user.id,
            "tier": rng.choices((1, 2, 3), (5, 3, 1))[0],
            "document_type": rng.choices(("sa_id_card", "green_id_book", "passport"), (7, 2, 1))[0],
            "id_number": user.person.sa_id_number,
            "date_of_birth": user.person.date_of_birth,
            "status": status,
            "reviewer_note": note,
            "decided_at": decided_at,
            "created_at": at,
            "updated_at": decided_at or at,
        },
    )


BUTLER_CATEGORIES = ("groceries", "parcel_pickup", "home_affairs_queue", "cleaning", "gardening")


def butler_task_row(
    rng: random.Random, world: World, user: SeedUser, provider: Row | None, at: dt.datetime,
    row_id: int | None = None, *, live: bool = False,
) -> Row:  # fmt: skip
    category = rng.choice(BUTLER_CATEGORIES)
    latitude, longitude = point_in_city(rng, user.person.city)
    status = "open" if live else rng.choices(("completed", "cancelled", "open"), (80, 10, 10))[0]
    completed_at = world.later(rng, at, 60 * 30) if status == "completed" else None
    return _with_id(
        row_id,
        {
            "user_id": user.id,
            "provider_id": provider["id"] if provider and status != "open" else None,
            "category": category,
            "instructions": f"Gate code {rng.randint(1000, 9999)}. Ask for {user.person.first_name}"
            f" at {user.person.phone}.",
            "address_line": user.person.address_line,
            "latitude": latitude,
            "longitude": longitude,
            "amount": money(rng, 180, 0.5),
            "currency": "ZAR",
            "status": status,
            "scheduled_for": (at + dt.timedelta(hours=rng.uniform(1, 72))).replace(microsecond=0),
            "completed_at": completed_at,
            "created_at": at,
            "updated_at": completed_at or at,
        },
    )


REVIEW_BODIES = ("Fast delivery, legit seller", "Item not as described", "Great service, 10/10",
                 "Took two weeks to respond", "Friendly and honest, will buy again")  # fmt: skip


def trustseal_review_row(
    rng: random.Random, reviewer: SeedUser, certificate: Row, at: dt.datetime,
    row_id: int | None = None,
) -> Row:  # fmt: skip
    return _with_id(
        row_id,
        {
            "reviewer_user_id": reviewer.id,
            "certificate_id": certificate["id"],
            "rating": rng.choices((1, 2, 3, 4, 5), (1, 1, 2, 4, 6))[0],
            "body": rng.choice(REVIEW_BODIES) if rng.random() < 0.7 else None,
            "created_at": at,
            "updated_at": at,
        },
    )


TRANSIT_SYSTEMS = {
    "Cape Town": ("MyCiTi", "bus"),
    "Johannesburg": ("Rea Vaya", "bus"),
    "Soweto": ("Rea Vaya", "bus"),
    "Pretoria": ("A Re Yeng", "bus"),
    "Durban": ("GO!Durban", "bus"),
}


def transit_tap_row(
    rng: random.Random, user: SeedUser | None, card_uid: str, route: Row, city: City,
    at: dt.datetime, row_id: int | None = None,
) -> Row:  # fmt: skip
    latitude, longitude = point_in_city(rng, city)
    direction = rng.choice(("in", "out"))
    return _with_id(
        row_id,
        {
            "card_uid": card_uid,
            "user_id": user.id if user else None,
            "route_id": route["id"],
            "stop_name": f"{rng.choice(city.suburbs)} {rng.choice(('Station', 'Stop', 'Rank'))}",
            "direction": direction,
            "latitude": latitude,
            "longitude": longitude,
            "amount": Decimal(rng.choice(("8.50", "12.00", "14.50", "18.00", "27.50")))
            if direction == "in"
            else Decimal("0.00"),
            "currency": "ZAR",
            "created_at": at,
            "updated_at": at,
        },
    )


def mesh_sample_row(rng: random.Random, node: Row, at: dt.datetime, row_id: int | None = None) -> Row:
    scale = {"edge": 1, "relay": 8, "gateway": 40}[node["node_class"]]
    return _with_id(
        row_id,
        {
            "node_id": node["id"],
            "owner_user_id": node["owner_user_id"],
            "bytes_up": int(rng.expovariate(1 / (2_000_000 * scale))),
            "bytes_down": int(rng.expovariate(1 / (9_000_000 * scale))),
            "peer_count": rng.randint(0, 3 * scale),
            "sampled_at": at,
            "created_at": at,
            "updated_at": at,
        },
    )


NOTIFICATION_TEMPLATES = ("otp_code", "payment_received", "bid_outbid", "auction_won",
                          "trip_receipt", "kyc_approved", "weekly_summary")  # fmt: skip


def notification_delivery_row(
    rng: random.Random, world: World, user: SeedUser, at: dt.datetime, row_id: int | None = None,
    *, live: bool = False,
) -> Row:  # fmt: skip
    channel = rng.choices(("email", "sms", "push"), (3, 3, 4))[0]
    status = "queued" if live else rng.choices(("delivered", "failed", "bounced"), (93, 4, 3))[0]
    sent_at = None if live else world.later(rng, at, 1)
    return _with_id(
        row_id,
        {
            "user_id": user.id,
            "channel": channel,
            "template": rng.choice(NOTIFICATION_TEMPLATES),
            "recipient_email": user.person.email if channel == "email" else None,
            "recipient_phone": user.person.phone if channel == "sms" else None,
            "status": status,
            "metadata": {"template_version": rng.randint(1, 4), "locale": user.person.language},
            "sent_at": sent_at,
            "created_at": at,
            "updated_at": sent_at or at,
        },
    )


# =============================================================================== per-database data


def _ordered(rows: list[Row]) -> list[Row]:
    """Sort by created_at and number ids 1..n (ids follow insertion order, like a live app)."""
    rows.sort(key=lambda row: row["created_at"])
    for index, row in enumerate(rows, start=1):
        row["id"] = index
    return rows


def _sort_and_renumber(rows: list[Row]) -> dict[int, int]:
    """Order rows by created_at, renumber ids, return old id -> new id."""
    rows.sort(key=lambda row: (row["created_at"], row["id"]))
    id_map = {}
    for index, row in enumerate(rows, start=1):
        id_map[row["id"]] = index
        row["id"] = index
    return id_map


def generate_auth(world: World) -> dict[str, list[Row]]:
    rng = world.rng("auth_db")
    users = [user_row(user) for user in world.users]
    logins = []
    for _ in range(world.count("auth_db.logins")):
        user = world.pick_user(rng)
        logins.append(login_row(rng, user, world.event_time(rng, user)))
    return {"users": users, "logins": _ordered(logins)}


def generate_ledger(world: World) -> dict[str, list[Row]]:
    rng = world.rng("ledger_db")
    accounts, account_user = [], {}
    accounts_by_user: dict[int, list[Row]] = defaultdict(list)
    for user in world.users:
        for _ in range(1 if rng.random() < 0.8 else 2):
            at = world.after_signup(rng, user, 60 * 24)
            row = ledger_account_row(rng, user, at, row_id=len(accounts) + 1)
            if user.deleted_at:
                row.update(status="closed", closed_at=user.deleted_at, updated_at=user.deleted_at)
            accounts.append(row)
            accounts_by_user[user.id].append(row)
            account_user[row["id"]] = user
    transactions = []
    for _ in range(world.count("ledger_db.transactions")):
        user = world.pick_user(rng)
        account = rng.choice(accounts_by_user[user.id])
        at = max(world.event_time(rng, user), account["created_at"])
        transactions.append(ledger_transaction_row(rng, world, account, user, at, row_id=len(transactions) + 1))
    _ordered(transactions)

    holds = []
    for transaction in transactions:
        if transaction["txn_type"] == "card_payment" and rng.random() < 0.2:
            account = accounts[transaction["account_id"] - 1]
            hold_at = transaction["created_at"] - dt.timedelta(seconds=rng.randint(5, 600))
            holds.append(ledger_hold_row(rng, world, account, transaction, hold_at))
    for _ in range(world.count("ledger_db.holds")):
        account = rng.choice(accounts)
        user = account_user[account["id"]]
        holds.append(ledger_hold_row(rng, world, account, None, world.event_time(rng, user)))

    reversals = []
    for transaction in transactions:
        if transaction["status"] == "posted" and rng.random() < 0.015:
            at = world.later(rng, transaction["created_at"], 60 * 24 * 5)
            reversals.append(ledger_reversal_row(rng, world, transaction, at))
            transaction["status"] = "reversed"
            transaction["updated_at"] = max(transaction["updated_at"], at)
    return {
        "accounts": accounts,
        "transactions": transactions,
        "holds": _ordered(holds),
        "reversals": _ordered(reversals),
    }


MERCHANT_SUFFIXES = ("Spaza", "Fresh Produce", "Hair Salon", "Car Wash", "Kota Kitchen",
                     "Tyres", "Tuck Shop", "Butchery")  # fmt: skip


def _merchants(world: World, rng: random.Random) -> list[tuple[int, str]]:
    count = max(10, len(world.users) // 40)
    users = rng.sample(world.users, count)
    return [(user.id, f"{user.person.last_name} {rng.choice(MERCHANT_SUFFIXES)}") for user in users]


def generate_sdpkt(world: World) -> dict[str, list[Row]]:
    rng = world.rng("sdpkt_db")
    wallets, wallet_by_user = [], {}
    for user in world.users:
        if rng.random() < 0.9:
            at = world.after_signup(rng, user, 60 * 24 * 3)
            row = sdpkt_wallet_row(rng, user, at, row_id=len(wallets) + 1)
            wallets.append(row)
            wallet_by_user[user.id] = (row, user)
    _sort_and_renumber(wallets)  # wallet_by_user holds the same dicts, so ids follow
    wallet_owners = list(wallet_by_user.values())
    merchants = _merchants(world, rng)

    payments = []
    for _ in range(world.count("sdpkt_db.payments")):
        wallet, user = wallet_owners[int(len(wallet_owners) * rng.random() ** 1.6)]
        at = max(world.event_time(rng, user), wallet["created_at"])
        merchant = rng.choice(merchants)
        payments.append(sdpkt_payment_row(rng, world, wallet, user, merchant, at, row_id=0))
    _ordered(payments)

    holds = [sdpkt_hold_row(rng, world, payment, payment["created_at"]) for payment in payments if rng.random() < 0.2]

    # Merchants are settled daily (T+1, 02:00 UTC) for the previous day's settled payments.
    daily: dict[tuple[int, dt.date], list[Row]] = defaultdict(list)
    for payment in payments:
        if payment["status"] == "settled":
            daily[(payment["merchant_user_id"], payment["created_at"].date())].append(payment)
    settlements = []
    for (merchant_user_id, settlement_date), day_payments in sorted(daily.items()):
        created_at = dt.datetime.combine(settlement_date + dt.timedelta(days=1), dt.time(2, 0), tzinfo=dt.UTC)
        if created_at > world.now:
            continue
        paid_at = world.later(rng, created_at, 60 * 8)
        settlements.append(
            {
                "id": 0,
                "merchant_user_id": merchant_user_id,
                "settlement_date": settlement_date,
                "amount": sum((p["amount"] for p in day_payments), Decimal("0.00")),
                "currency": "ZAR",
                "payment_count": len(day_payments),
                "bank_reference": f"SDPKT{settlement_date:%y%m%d}{merchant_user_id:06d}",
                "status": "paid" if rng.random() < 0.97 else "failed",
                "paid_at": paid_at,
                "created_at": created_at,
                "updated_at": paid_at,
            }
        )
    return {
        "wallets": wallets,
        "payments": payments,
        "holds": _ordered(holds),
        "merchant_settlements": _ordered(settlements),
    }


def generate_bidbaas(world: World) -> dict[str, list[Row]]:
    rng = world.rng("bidbaas_db")
    auctions = []
    for _ in range(world.count("bidbaas_db.auctions")):
        seller = world.pick_user(rng)
        auctions.append(bidbaas_auction_row(rng, world, seller, world.event_time(rng, seller), 0))
    _ordered(auctions)

    bids = []
    for auction in auctions:
        if auction["status"] in ("scheduled", "cancelled"):
            continue
        close = min(auction["ends_at"], world.now)
        times = sorted(
            random_time_between(rng, auction["starts_at"], close) for _ in range(rng.choice((0, 2, 4, 6, 8, 10, 14)))
        )
        amount = (auction["amount"] * Decimal(rng.uniform(0.5, 0.9))).quantize(Decimal("1"))
        for at in times:
            amount = (amount * Decimal(rng.uniform(1.03, 1.15))).quantize(Decimal("0.01"))
            bidder = world.pick_user(rng, active_only=True)
            if bidder.id == auction["seller_user_id"]:
                continue
            bids.append(bidbaas_bid_row(rng, auction, bidder, amount, at, row_id=0))
            bids[-1]["auction_row"] = auction  # temporary link, removed below
    _ordered(bids)

    best_bid: dict[int, Row] = {}
    for bid in bids:
        auction = bid.pop("auction_row")
        current = best_bid.get(auction["id"])
        if current is None or bid["amount"] > current["amount"]:
            best_bid[auction["id"]] = bid
    winners, payouts = [], []
    for auction in auctions:
        bid = best_bid.get(auction["id"])
        if auction["status"] == "closed" and bid and bid["amount"] >= auction["amount"]:
            winner = bidbaas_winner_row(auction, bid, row_id=0)
            winners.append(winner)
            payouts.append(bidbaas_payout_row(rng, world, auction, winner, row_id=0))
        if auction["status"] == "closed":
            auction["updated_at"] = auction["ends_at"]
    return {
        "auctions": auctions,
        "bids": bids,
        "winners": _ordered(winners),
        "payouts": _ordered(payouts),
    }


def generate_markets(world: World) -> dict[str, list[Row]]:
    rng = world.rng("markets_db")
    rates = []
    level = dict(FX_START_ZAR_PER_UNIT)
    day = world.start.date()
    while day <= world.now.date():
        created_at = min(dt.datetime.combine(day, dt.time(0, 5), tzinfo=dt.UTC), world.now)
        for currency in FX_CURRENCIES:
            level[currency] *= math.exp(rng.gauss(0.0, FX_DAILY_VOLATILITY[currency]))
            rates.append(
                {
                    "rate_date": day,
                    "currency": currency,
                    "zar_per_unit": Decimal(f"{level[currency]:.8f}"),
                    "source": "exchangerate.host",
                    "created_at": created_at,
                    "updated_at": created_at,
                }
            )
        day += dt.timedelta(days=1)
    instrument_time = world.start - dt.timedelta(days=400)
    instruments = [
        {
            "code": code,
            "name": name,
            "asset_class": asset_class,
            "decimals": decimals,
            "is_active": True,
            "created_at": instrument_time,
            "updated_at": instrument_time,
        }
        for code, name, asset_class, decimals in (
            ("ZAR", "South African rand", "fiat", 2),
            ("USD", "US dollar", "fiat", 2),
            ("EUR", "Euro", "fiat", 2),
            ("GBP", "Pound sterling", "fiat", 2),
            ("BTC", "Bitcoin", "crypto", 8),
        )
    ]
    return {"fx_rates": rates, "instruments": instruments}


def _venues(world: World, rng: random.Random, count: int) -> list[Row]:
    venues = []
    at = world.start - dt.timedelta(days=90)
    for venue_id in range(1, count + 1):
        city = pick_city(rng)
        category = rng.choice(tuple(VENUE_KINDS))
        name = rng.choice(VENUE_KINDS[category]).format(rng.choice(city.suburbs))
        latitude, longitude = point_in_city(rng, city)
        venues.append(
            {
                "id": venue_id,
                "name": name,
                "category": category,
                "city": city.name,
                "province": city.province,
                "latitude": latitude,
                "longitude": longitude,
                "created_at": at,
                "updated_at": at,
            }
        )
    return venues


def generate_tagme(world: World) -> dict[str, list[Row]]:
    rng = world.rng("tagme_db")
    venues = _venues(world, rng, 200)
    tags = []
    for _ in range(world.count("tagme_db.tags")):
        user = world.pick_user(rng)
        tags.append(tagme_tag_row(rng, user, rng.choice(venues), world.event_time(rng, user)))
    return {"venues": venues, "tags": _ordered(tags)}


def generate_txtme(world: World) -> dict[str, list[Row]]:
    rng = world.rng("txtme_db")
    contacts = []
    contacts_by_user: dict[int, list[str]] = defaultdict(list)
    for user in world.users:
        for _ in range(rng.choice((0, 1, 1, 2, 3))):
            other = world.pick_user(rng).person
            at = world.after_signup(rng, user, 60 * 24 * 30)
            contacts.append(
                {
                    "id": 0,
                    "owner_user_id": user.id,
                    "display_name": other.first_name if rng.random() < 0.4 else other.full_name,
                    "phone": other.phone,
                    "email": other.email if rng.random() < 0.4 else None,
                    "is_favourite": rng.random() < 0.15,
                    "created_at": at,
                    "updated_at": at,
                }
            )
            contacts_by_user[user.id].append(other.phone)
    messages = []
    for _ in range(world.count("txtme_db.messages")):
        sender = world.pick_user(rng)
        phones = contacts_by_user.get(sender.id)
        phone = rng.choice(phones) if phones else make_sa_mobile(rng)
        messages.append(txtme_message_row(rng, world, sender, phone, world.event_time(rng, sender)))
    return {"contacts": _ordered(contacts), "messages": _ordered(messages)}


VEHICLES = (("Toyota", "Corolla Quest"), ("Suzuki", "Swift"), ("VW", "Polo Vivo"),
            ("Toyota", "Etios"), ("Hyundai", "i20"), ("Renault", "Kwid"))  # fmt: skip
PROVINCE_PLATE_SUFFIX = {"Gauteng": "GP", "Western Cape": "WC", "KwaZulu-Natal": "ZN",
                         "Eastern Cape": "EC", "Free State": "FS", "Limpopo": "L",
                         "Mpumalanga": "MP", "Northern Cape": "NC", "North West": "NW"}  # fmt: skip


def _registration(rng: random.Random, city: City) -> str:
    letters = "BCDFGHJKLMNPRSTVWXYZ"
    pair = "".join(rng.choice(letters) for _ in range(2))
    return (
        f"{pair} {rng.randint(10, 99)} {rng.choice(letters)}{rng.choice(letters)} "
        + (PROVINCE_PLATE_SUFFIX[city.province])
    )


def generate_takemehome(world: World) -> dict[str, list[Row]]:
    rng = world.rng("takemehome_db")
    drivers = []
    for user in rng.sample(world.users, max(20, 60 * world.scale)):
        make, model = rng.choice(VEHICLES)
        at = world.after_signup(rng, user, 60 * 24 * 10)
        drivers.append(
            {
                "id": 0,
                "user_id": user.id,
                "vehicle_registration": _registration(rng, user.person.city),
                "vehicle_make": make,
                "vehicle_model": model,
                "rating": Decimal(f"{rng.uniform(3.8, 5.0):.2f}"),
                "city": user.person.city.name,
                "status": "inactive" if user.deleted_at else "active",
                "created_at": at,
                "updated_at": user.deleted_at or at,
            }
        )
    _ordered(drivers)
    drivers_by_city: dict[str, list[Row]] = defaultdict(list)
    for driver in drivers:
        drivers_by_city[driver["city"]].append(driver)
    trips = []
    for _ in range(world.count("takemehome_db.trips")):
        rider = world.pick_user(rng)
        at = world.event_time(rng, rider)
        nearby = [d for d in drivers_by_city.get(rider.person.city.name, ()) if d["created_at"] < at]
        driver = rng.choice(nearby) if nearby else None
        trips.append(takemehome_trip_row(rng, world, rider, driver, at))
    return {"drivers": drivers, "trips": _ordered(trips)}


def generate_whatwewant(world: World) -> dict[str, list[Row]]:
    rng = world.rng("whatwewant_db")
    wishes = []
    for _ in range(world.count("whatwewant_db.wishes")):
        user = world.pick_user(rng)
        wishes.append(whatwewant_wish_row(rng, user, world.event_time(rng, user)))
    _ordered(wishes)
    votes, voted = [], set()
    for _ in range(world.count("whatwewant_db.votes")):
        user = world.pick_user(rng, active_only=True)
        wish = rng.choice(wishes)
        if (wish["id"], user.id) in voted:
            continue
        voted.add((wish["id"], user.id))
        at = random_time_between(rng, max(wish["created_at"], user.created_at), world.now)
        votes.append(whatwewant_vote_row(rng, user, wish, at))
    return {"wishes": wishes, "votes": _ordered(votes)}


AMENITIES = ("wifi", "parking", "pool", "braai", "aircon", "backup_power", "sea_view", "pet_friendly")


def generate_slepton(world: World) -> dict[str, list[Row]]:
    rng = world.rng("slepton_db")
    listings = []
    for host in rng.sample(world.users, max(30, 75 * world.scale)):
        city = host.person.city
        latitude, longitude = point_in_city(rng, city)
        at = world.after_signup(rng, host, 60 * 24 * 20)
        listings.append(
            {
                "id": 0,
                "host_user_id": host.id,
                "title": f"{rng.choice(('Cosy', 'Sunny', 'Quiet', 'Modern'))} "
                f"{rng.choice(('cottage', 'studio', 'flat', 'garden room'))} in "
                f"{rng.choice(city.suburbs)}",
                "address_line": make_street_address(rng, city),
                "city": city.name,
                "province": city.province,
                "latitude": latitude,
                "longitude": longitude,
                "amount": money(rng, 850, 0.4, minimum=250),
                "currency": "ZAR",
                "amenities": sorted(rng.sample(AMENITIES, rng.randint(1, 5))),
                "max_guests": rng.randint(1, 6),
                "is_active": host.deleted_at is None,
                "created_at": at,
                "updated_at": host.deleted_at or at,
            }
        )
    _ordered(listings)
    bookings = []
    for _ in range(world.count("slepton_db.bookings")):
        guest = world.pick_user(rng)
        at = world.event_time(rng, guest)
        listing = rng.choice(listings)
        bookings.append(slepton_booking_row(rng, guest, listing, max(at, listing["created_at"])))
    return {"listings": listings, "bookings": _ordered(bookings)}


def generate_bigbruh(world: World) -> dict[str, list[Row]]:
    rng = world.rng("bigbruh_db")
    staff = rng.sample(world.users, max(15, 40 * world.scale))
    views = []
    for _ in range(world.count("bigbruh_db.page_views")):
        user = rng.choice(staff)
        views.append(bigbruh_page_view_row(rng, user, world.event_time(rng, user)))
    return {"page_views": _ordered(views)}


KYC_TIERS = (
    (0, "unverified", "0.00", "Phone number only"),
    (1, "basic", "3000.00", "SA ID number checked against Home Affairs"),
    (2, "standard", "25000.00", "ID document and selfie"),
    (3, "premium", "100000.00", "Proof of address and source of funds"),
)


def generate_kyc(world: World) -> dict[str, list[Row]]:
    rng = world.rng("kyc_db")
    tier_time = world.start - dt.timedelta(days=365)
    tiers = [
        {
            "tier": tier,
            "name": name,
            "amount": Decimal(limit),
            "currency": "ZAR",
            "description": description,
            "created_at": tier_time,
            "updated_at": tier_time,
        }
        for tier, name, limit, description in KYC_TIERS
    ]
    verifications = []
    for user in world.users:
        for _ in range(1 if rng.random() < 0.9 else 2):
            at = world.event_time(rng, user)
            verifications.append(kyc_verification_row(rng, world, user, at))
    return {"tiers": tiers, "verifications": _ordered(verifications)}


PLACE_KINDS = {
    "mall": "{} Mall",
    "taxi_rank": "{} Taxi Rank",
    "clinic": "{} Community Clinic",
    "school": "{} High School",
    "fuel_station": "Engen {}",
    "stadium": "{} Stadium",
    "park": "{} Park",
}


def generate_geo(world: World) -> dict[str, list[Row]]:
    rng = world.rng("geo_db")
    at = world.start - dt.timedelta(days=200)
    places = []
    for place_id in range(1, 301):
        city = pick_city(rng)
        category = rng.choice(tuple(PLACE_KINDS))
        latitude, longitude = point_in_city(rng, city)
        places.append(
            {
                "id": place_id,
                "name": PLACE_KINDS[category].format(rng.choice(city.suburbs)),
                "category": category,
                "city": city.name,
                "province": city.province,
                "postal_code": make_postal_code(rng, city),
                "latitude": latitude,
                "longitude": longitude,
                "created_at": at,
                "updated_at": at,
            }
        )
    return {"places": places}


def generate_butler(world: World) -> dict[str, list[Row]]:
    rng = world.rng("butler_db")
    providers = []
    for user in rng.sample(world.users, max(20, 40 * world.scale)):
        at = world.after_signup(rng, user, 60 * 24 * 10)
        providers.append(
            {
                "id": 0,
                "user_id": user.id,
                "business_name": f"{user.person.first_name}'s "
                f"{rng.choice(('Errands', 'Helping Hands', 'Runners', 'Services'))}",
                "contact_phone": user.person.phone,
                "contact_email": user.person.email,
                "services": sorted(rng.sample(BUTLER_CATEGORIES, rng.randint(1, 3))),
                "rating": Decimal(f"{rng.uniform(3.5, 5.0):.2f}"),
                "city": user.person.city.name,
                "created_at": at,
                "updated_at": user.deleted_at or at,
            }
        )
    _ordered(providers)
    tasks = []
    for _ in range(world.count("butler_db.tasks")):
        user = world.pick_user(rng)
        at = world.event_time(rng, user)
        provider = rng.choice(providers)
        tasks.append(butler_task_row(rng, world, user, provider, at))
    return {"providers": providers, "tasks": _ordered(tasks)}


def generate_trustseal(world: World) -> dict[str, list[Row]]:
    rng = world.rng("trustseal_db")
    certificates = []
    for user in rng.sample(world.users, max(20, 50 * world.scale)):
        issued_at = world.event_time(rng, user)
        revoked_at = user.deleted_at or (world.later(rng, issued_at, 60 * 24 * 60) if rng.random() < 0.05 else None)
        certificates.append(
            {
                "id": 0,
                "owner_user_id": user.id,
                "business_name": f"{user.person.last_name} {rng.choice(MERCHANT_SUFFIXES)}",
                "seal_level": rng.choices(("bronze", "silver", "gold"), (5, 3, 1))[0],
                "issued_at": issued_at,
                "expires_at": issued_at + dt.timedelta(days=365),
                "revoked_at": revoked_at,
                "created_at": issued_at,
                "updated_at": revoked_at or issued_at,
            }
        )
    _ordered(certificates)
    reviews = []
    for _ in range(world.count("trustseal_db.reviews")):
        reviewer = world.pick_user(rng)
        certificate = rng.choice(certificates)
        at = max(world.event_time(rng, reviewer), certificate["created_at"])
        reviews.append(trustseal_review_row(rng, reviewer, certificate, at))
    return {"certificates": certificates, "reviews": _ordered(reviews)}


def _routes(world: World, rng: random.Random) -> list[Row]:
    at = world.start - dt.timedelta(days=300)
    routes = []
    for city_name, (system, mode) in TRANSIT_SYSTEMS.items():
        city = CITIES_BY_NAME[city_name]
        for number in range(1, 9):
            routes.append(
                {
                    "id": len(routes) + 1,
                    "route_code": f"{system.upper().replace(' ', '').replace('!', '')[:4]}-"
                    f"{city_name[:3].upper()}-{number:02d}",
                    "name": f"{system} {rng.choice(city.suburbs)} - {rng.choice(city.suburbs)}",
                    "transport_mode": mode,
                    "city": city_name,
                    "created_at": at,
                    "updated_at": at,
                }
            )
    return routes


def generate_transit(world: World) -> dict[str, list[Row]]:
    rng = world.rng("transit_db")
    routes = _routes(world, rng)
    routes_by_city: dict[str, list[Row]] = defaultdict(list)
    for route in routes:
        routes_by_city[route["city"]].append(route)
    riders = [u for u in world.users if u.person.city.name in routes_by_city]
    taps = []
    for _ in range(world.count("transit_db.taps")):
        if rng.random() < 0.7 and riders:
            user = riders[int(len(riders) * rng.random() ** 1.4)]
            card_uid = f"{random.Random(f'card:{user.id}').getrandbits(56):014X}"
            city, at = user.person.city, world.event_time(rng, user)
        else:
            user = None
            card_uid = f"{rng.getrandbits(56):014X}"
            city = CITIES_BY_NAME[rng.choice(tuple(routes_by_city))]
            at = world.event_time(rng)
        route = rng.choice(routes_by_city[city.name])
        taps.append(transit_tap_row(rng, user, card_uid, route, city, at))
    return {"routes": routes, "taps": _ordered(taps)}


def generate_mesh(world: World) -> dict[str, list[Row]]:
    rng = world.rng("mesh_db")
    nodes = []
    for owner in rng.sample(world.users, max(40, 150 * world.scale)):
        latitude, longitude = point_in_city(rng, owner.person.city)
        at = world.after_signup(rng, owner, 60 * 24 * 14)
        nodes.append(
            {
                "id": 0,
                "owner_user_id": owner.id,
                "device_id": make_device_id(rng),
                "node_class": rng.choices(("edge", "relay", "gateway"), (7, 2, 1))[0],
                "firmware_version": f"2.{rng.randint(0, 6)}.{rng.randint(0, 20)}",
                "latitude": latitude,
                "longitude": longitude,
                "last_ip": make_ipv4(rng),
                "last_seen_at": owner.active_until,
                "created_at": at,
                "updated_at": max(at, owner.deleted_at or world.now - dt.timedelta(hours=3)),
            }
        )
    _ordered(nodes)
    samples = []
    for _ in range(world.count("mesh_db.traffic_samples")):
        node = rng.choice(nodes)
        at = random_time_between(rng, max(node["created_at"], world.start), node["last_seen_at"])
        samples.append(mesh_sample_row(rng, node, at))
    return {"nodes": nodes, "traffic_samples": _ordered(samples)}


def generate_notifications(world: World) -> dict[str, list[Row]]:
    rng = world.rng("notifications_db")
    deliveries = []
    for _ in range(world.count("notifications_db.deliveries")):
        user = world.pick_user(rng)
        deliveries.append(notification_delivery_row(rng, world, user, world.event_time(rng, user)))
    return {"deliveries": _ordered(deliveries)}


# Table order inside each database = load order (parents first).
GENERATORS: dict[str, Callable[[World], dict[str, list[Row]]]] = {
    "auth_db": generate_auth,
    "ledger_db": generate_ledger,
    "sdpkt_db": generate_sdpkt,
    "bidbaas_db": generate_bidbaas,
    "markets_db": generate_markets,
    "tagme_db": generate_tagme,
    "txtme_db": generate_txtme,
    "takemehome_db": generate_takemehome,
    "whatwewant_db": generate_whatwewant,
    "slepton_db": generate_slepton,
    "bigbruh_db": generate_bigbruh,
    "kyc_db": generate_kyc,
    "geo_db": generate_geo,
    "butler_db": generate_butler,
    "trustseal_db": generate_trustseal,
    "transit_db": generate_transit,
    "mesh_db": generate_mesh,
    "notifications_db": generate_notifications,
}


def make_world(scale: int = 1, seed: int = 42, now: dt.datetime | None = None) -> World:
    if scale < 1:
        raise ValueError(f"scale must be >= 1, got {scale}")
    now = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    world = World(seed=seed, scale=scale, now=now)
    world.users = build_users(seed, scale, now)
    return world


def generate_database(world: World, source_db: str) -> dict[str, TableRows]:
    """All rows of one source database, pure and deterministic for (seed, scale, now)."""
    generator = GENERATORS.get(source_db)
    if generator is None:
        return {}
    return {table: TableRows.from_dicts(rows) for table, rows in generator(world).items()}


# =============================================================================== database I/O


_CREATE_TABLE = re.compile(r"CREATE TABLE IF NOT EXISTS (\w+) \((.*?)\n\);", re.S)
_COLUMN_LINE = re.compile(r"^\s+(\w+)\s+\w", re.M)
_TABLE_CONSTRAINT_WORDS = {"PRIMARY", "UNIQUE", "CHECK", "CONSTRAINT", "FOREIGN", "EXCLUDE"}


def source_ddl_columns(source_db: str) -> dict[str, tuple[str, ...]]:
    """Columns per table declared in include/sql/sources/<source_db>.sql, in order."""
    ddl = (SOURCE_SQL_DIR / f"{source_db}.sql").read_text(encoding="utf-8")
    return {
        table: tuple(column for column in _COLUMN_LINE.findall(body) if column.upper() not in _TABLE_CONSTRAINT_WORDS)
        for table, body in _CREATE_TABLE.findall(ddl)
    }


def _adapt(value: Any) -> Any:
    return Jsonb(value) if isinstance(value, dict) else value


def apply_source_schemas(dsn_for_db: DsnForDb, registry, *, grant_to: Iterable[str] = ()) -> None:
    """Run include/sql/sources/<db>.sql in each registry source database (as a superuser).

    ``grant_to``: roles that get SELECT/INSERT/UPDATE/DELETE on the tables and USAGE on the
    sequences of each database's public schema (e.g. the synthetic-traffic writer role).
    """
    roles = tuple(grant_to)
    for source in registry.sources:
        ddl_path = SOURCE_SQL_DIR / f"{source.name}.sql"
        if not ddl_path.exists():  # a real database loaded from elsewhere: extracted as it is
            log.info("no synthetic DDL for source %s (%s): left as it is", source.name, ddl_path)
            continue
        ddl = ddl_path.read_text(encoding="utf-8")
        with psycopg.connect(dsn_for_db(source.name), autocommit=True) as conn:
            conn.execute(ddl)
            for role in roles:
                conn.execute(
                    sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}").format(
                        sql.Identifier(role)
                    )
                )
                conn.execute(
                    sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(sql.Identifier(role))
                )
        log.info("applied %s", ddl_path.relative_to(REPO_ROOT))


def _has_rows(conn: psycopg.Connection, table: str) -> bool:
    query = sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(sql.Identifier(table))
    return bool(conn.execute(query).fetchone()[0])


def _reset_identity_sequences(conn: psycopg.Connection, table: str) -> None:
    identity_columns = conn.execute(
        "SELECT a.attname FROM pg_attribute a"
        " WHERE a.attrelid = to_regclass(%s) AND a.attidentity <> '' AND NOT a.attisdropped",
        (sql.Identifier(table).as_string(conn),),
    ).fetchall()
    for (column,) in identity_columns:
        conn.execute(
            sql.SQL(
                "SELECT setval(pg_get_serial_sequence({table_literal}, {column_literal}),"
                " COALESCE(max({column}), 0) + 1, false) FROM {table}"
            ).format(
                table_literal=sql.Literal(sql.Identifier(table).as_string(conn)),
                column_literal=sql.Literal(column),
                column=sql.Identifier(column),
                table=sql.Identifier(table),
            )
        )


def _copy_rows(conn: psycopg.Connection, table: str, data: TableRows) -> None:
    if not data.rows:
        return
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, data.columns))
    )
    json_positions = [i for i, value in enumerate(data.rows[0]) if isinstance(value, dict)]
    with conn.cursor() as cursor, cursor.copy(statement) as copy:
        for row in data.rows:
            if json_positions:
                row = list(row)
                for position in json_positions:
                    row[position] = Jsonb(row[position])
            copy.write_row(row)


def _count_rows(conn: psycopg.Connection, tables: Iterable[str]) -> dict[str, int]:
    return {
        table: conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()[0]
        for table in tables
    }


def _check_against_ddl(source_db: str, data: dict[str, TableRows]) -> None:
    declared = source_ddl_columns(source_db)
    for table, rows in data.items():
        if rows.rows and set(rows.columns) != set(declared.get(table, ())):
            raise RuntimeError(
                f"generator for {source_db}.{table} is out of step with "
                f"include/sql/sources/{source_db}.sql: generates {sorted(rows.columns)}, "
                f"DDL declares {sorted(declared.get(table, ()))}"
            )


def seed(
    dsn_for_db: DsnForDb,
    registry,
    scale: int = 1,
    seed: int = 42,
    *,
    reset: bool = False,
    now: dt.datetime | None = None,
) -> dict[str, int]:
    """Load synthetic rows into every registry source database; returns rows per 'db.table'.

    A database whose registry tables already hold rows is skipped (its counts are still
    reported) unless ``reset`` is true, in which case its tables are truncated and reloaded.
    Each database loads in one transaction.
    """
    started = time.monotonic()
    world = make_world(scale, seed, now)
    counts: dict[str, int] = {}
    for source in registry.sources:
        registry_tables = [table.name for table in source.tables]
        if source.name not in GENERATORS:  # not synthetic: extracted as loaded, seeded by nobody here
            log.info("no synthetic data for source %s: left as it is", source.name)
            continue
        with psycopg.connect(dsn_for_db(source.name)) as conn:
            already_seeded = any(_has_rows(conn, table) for table in registry_tables)
            if already_seeded and not reset:
                log.info("%s already has rows: left as it is", source.name)
            else:
                data = generate_database(world, source.name)
                _check_against_ddl(source.name, data)
                missing = [table for table in registry_tables if table not in data]
                if missing:
                    log.warning("no generator for %s tables %s: left empty", source.name, missing)
                with conn.transaction():
                    if already_seeded:
                        conn.execute(
                            sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(
                                sql.SQL(", ").join(map(sql.Identifier, data))
                            )
                        )
                    for table, rows in data.items():
                        _copy_rows(conn, table, rows)
                        _reset_identity_sequences(conn, table)
                conn.execute("ANALYZE")
            for table, count in _count_rows(conn, registry_tables).items():
                counts[f"{source.name}.{table}"] = count
    log.info(
        "seeded %d tables, %d rows in %.1fs",
        len(counts),
        sum(counts.values()),
        time.monotonic() - started,
    )
    return counts


# =============================================================================== live traffic


@dataclass
class LiveTrafficCounts:
    inserted: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    soft_deleted_users: int = 0
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.inserted.values()) + sum(self.updated.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "inserted": dict(self.inserted),
            "updated": dict(self.updated),
            "soft_deleted_users": self.soft_deleted_users,
            "seconds": round(self.seconds, 2),
            "total": self.total,
        }


class _LiveState:
    """What live traffic needs to know about the primary: users and parent rows per database."""

    def __init__(self, connections: dict[str, psycopg.Connection], world: World):
        self.connections = connections
        self.world = world
        self.parents: dict[str, list[Row]] = {}
        self.users_by_id: dict[int, SeedUser] = {}
        self.max_ids: dict[tuple[str, str], int] = {}

    def fetch(self, source_db: str, query: str) -> list[Row]:
        with self.connections[source_db].cursor(row_factory=dict_row) as cursor:
            return cursor.execute(query).fetchall()

    def load(self, registry) -> None:
        users = self.fetch(
            "auth_db",
            "SELECT id, first_name, last_name, email, phone, sa_id_number, date_of_birth,"
            " city, address_line, postal_code, latitude, longitude, device_id,"
            " host(last_ip) AS last_ip, preferred_language, created_at"
            " FROM users WHERE deleted_at IS NULL ORDER BY id",
        )
        self.world.users = [self.seed_user(row) for row in users]
        self.users_by_id = {user.id: user for user in self.world.users}
        queries = {
            "accounts": ("ledger_db", "SELECT id, user_id FROM accounts WHERE status = 'open'"),
            "wallets": ("sdpkt_db", "SELECT id, user_id FROM wallets WHERE status = 'active'"),
            "merchants": (
                "sdpkt_db",
                "SELECT DISTINCT merchant_user_id, merchant_name FROM payments LIMIT 500",
            ),
            "venues": ("tagme_db", "SELECT id, latitude, longitude FROM venues"),
            "drivers": ("takemehome_db", "SELECT id, city FROM drivers WHERE status = 'active'"),
            "wishes": ("whatwewant_db", "SELECT id FROM wishes WHERE status = 'open'"),
            "listings": (
                "slepton_db",
                "SELECT id, amount, max_guests FROM listings WHERE is_active",
            ),
            "providers": ("butler_db", "SELECT id FROM providers"),
            "certificates": ("trustseal_db", "SELECT id FROM certificates WHERE revoked_at IS NULL"),
            "routes": ("transit_db", "SELECT id, city FROM routes"),
            "nodes": ("mesh_db", "SELECT id, owner_user_id, node_class::text FROM nodes"),
            "staff": ("bigbruh_db", "SELECT DISTINCT user_id FROM page_views LIMIT 200"),
        }
        for name, (source_db, query) in queries.items():
            self.parents[name] = self.fetch(source_db, query) if source_db in self.connections else []
        for table in registry.tables():
            if table.primary_key == ("id",) and table.source_db in self.connections:
                query = sql.SQL("SELECT COALESCE(max(id), 0) AS max_id FROM {}").format(sql.Identifier(table.name))
                row = self.connections[table.source_db].execute(query).fetchone()
                self.max_ids[(table.source_db, table.name)] = row[0]

    def seed_user(self, row: Row) -> SeedUser:
        city = CITIES_BY_NAME.get(row["city"], CITIES[0])
        person = Person(
            first_name=row["first_name"],
            last_name=row["last_name"],
            language=row["preferred_language"] or "en",
            female=False,
            date_of_birth=row["date_of_birth"],
            sa_id_number=row["sa_id_number"],
            email=row["email"],
            phone=row["phone"],
            city=city,
            address_line=row["address_line"],
            postal_code=row["postal_code"],
            latitude=row["latitude"],
            longitude=row["longitude"],
            device_id=row["device_id"],
            ip_address=row["last_ip"],
        )
        return SeedUser(row["id"], person, row["created_at"], None, self.world.now)

    def user(self, rng: random.Random, user_id: int | None = None) -> SeedUser | None:
        if user_id is not None:
            return self.users_by_id.get(user_id)
        return self.world.users[rng.randrange(len(self.world.users))]


def _insert(conn: psycopg.Connection, table: str, row: Row) -> int | None:
    """INSERT one row (its id left to the identity column); returns the new id, None on conflict."""
    row = {key: value for key, value in row.items() if key != "id"}
    statement = sql.SQL("INSERT INTO {} ({}) VALUES ({}) ON CONFLICT DO NOTHING RETURNING *").format(
        sql.Identifier(table),
        sql.SQL(", ").join(map(sql.Identifier, row)),
        sql.SQL(", ").join(sql.Placeholder() * len(row)),
    )
    result = conn.execute(statement, [_adapt(value) for value in row.values()]).fetchone()
    return result[0] if result else None


def _live_insert(state: _LiveState, rng: random.Random, source_db: str, table: str) -> tuple[str, Row] | None:
    """Build one new row for an event table from live parents; None when impossible."""
    world, parents, now = state.world, state.parents, state.world.now
    user = state.user(rng)
    if user is None:
        return None
    key = f"{source_db}.{table}"
    if key == "auth_db.logins":
        return table, login_row(rng, user, now)
    if key == "ledger_db.transactions" and parents["accounts"]:
        account = rng.choice(parents["accounts"])
        owner = state.user(rng, account["user_id"]) or user
        return table, ledger_transaction_row(rng, world, account, owner, now, live=True)
    if key == "ledger_db.holds" and parents["accounts"]:
        return table, ledger_hold_row(rng, world, rng.choice(parents["accounts"]), None, now)
    if key == "sdpkt_db.payments" and parents["wallets"] and parents["merchants"]:
        wallet = rng.choice(parents["wallets"])
        owner = state.user(rng, wallet["user_id"]) or user
        merchant = rng.choice(parents["merchants"])
        merchant_ref = (merchant["merchant_user_id"], merchant["merchant_name"])
        return table, sdpkt_payment_row(rng, world, wallet, owner, merchant_ref, now, live=True)
    if key == "sdpkt_db.holds":
        recent = state.fetch(
            source_db,
            "SELECT id, wallet_id, user_id, amount FROM payments ORDER BY id DESC LIMIT 1",
        )
        return (table, sdpkt_hold_row(rng, world, recent[0], now)) if recent else None
    if key == "bidbaas_db.auctions":
        return table, bidbaas_auction_row(rng, world, user, now, live=True)
    if key == "tagme_db.tags" and parents["venues"]:
        return table, tagme_tag_row(rng, user, rng.choice(parents["venues"]), now)
    if key == "txtme_db.messages":
        return table, txtme_message_row(rng, world, user, make_sa_mobile(rng), now, live=True)
    if key == "takemehome_db.trips":
        drivers = [d for d in parents["drivers"] if d["city"] == user.person.city.name]
        driver = rng.choice(drivers) if drivers else None
        return table, takemehome_trip_row(rng, world, user, driver, now, live=True)
    if key == "whatwewant_db.wishes":
        return table, whatwewant_wish_row(rng, user, now)
    if key == "whatwewant_db.votes" and parents["wishes"]:
        return table, whatwewant_vote_row(rng, user, rng.choice(parents["wishes"]), now)
    if key == "slepton_db.bookings" and parents["listings"]:
        return table, slepton_booking_row(rng, user, rng.choice(parents["listings"]), now)
    if key == "bigbruh_db.page_views":
        staff = parents["staff"]
        viewer = state.user(rng, rng.choice(staff)["user_id"]) if staff else None
        return table, bigbruh_page_view_row(rng, viewer or user, now)
    if key == "kyc_db.verifications":
        row = kyc_verification_row(rng, world, user, now)
        row.update(status="pending", decided_at=None, reviewer_note=None, updated_at=now)
        return table, row
    if key == "butler_db.tasks":
        return table, butler_task_row(rng, world, user, None, now, live=True)
    if key == "trustseal_db.reviews" and parents["certificates"]:
        return table, trustseal_review_row(rng, user, rng.choice(parents["certificates"]), now)
    if key == "transit_db.taps" and parents["routes"]:
        route = rng.choice(parents["routes"])
        city = CITIES_BY_NAME[route["city"]]
        card_uid = f"{random.Random(f'card:{user.id}').getrandbits(56):014X}"
        return table, transit_tap_row(rng, user, card_uid, route, city, now)
    if key == "mesh_db.traffic_samples" and parents["nodes"]:
        return table, mesh_sample_row(rng, rng.choice(parents["nodes"]), now)
    if key == "notifications_db.deliveries":
        return table, notification_delivery_row(rng, world, user, now, live=True)
    return None


# Event tables that live traffic fills as a side effect, never as a random insert.
BATCH_EVENT_TABLES = frozenset({"bidbaas_db.winners", "bidbaas_db.payouts", "sdpkt_db.merchant_settlements"})

# Relative share of new rows per event table in live traffic (default 1).
LIVE_EVENT_WEIGHTS = {
    "ledger_db.transactions": 4.0,
    "ledger_db.holds": 1.0,
    "ledger_db.reversals": 0.2,
    "sdpkt_db.payments": 4.0,
    "sdpkt_db.holds": 1.0,
    "bidbaas_db.auctions": 0.5,
    "bidbaas_db.bids": 4.0,
}

# Status moves that live traffic makes on existing rows: table -> (column, from, to, extra SET).
STATUS_PROGRESSIONS = {
    ("ledger_db", "transactions"): ("status", "pending", "posted", "posted_at"),
    ("sdpkt_db", "payments"): ("status", "authorised", "settled", None),
    ("takemehome_db", "trips"): ("status", "requested", "completed", "completed_at"),
    ("txtme_db", "messages"): ("status", "sent", "delivered", "delivered_at"),
    ("notifications_db", "deliveries"): ("status", "queued", "delivered", "sent_at"),
    ("butler_db", "tasks"): ("status", "open", "completed", "completed_at"),
    ("kyc_db", "verifications"): ("status", "pending", "approved", "decided_at"),
}


def _live_update(state: _LiveState, rng: random.Random, source_db: str, table: str) -> int:
    """Move one row along its status (or just touch updated_at); returns rows updated."""
    conn = state.connections[source_db]
    progression = STATUS_PROGRESSIONS.get((source_db, table))
    if progression and rng.random() < 0.7:
        column, old, new, timestamp_column = progression
        extra = sql.SQL(", {} = now()").format(sql.Identifier(timestamp_column)) if timestamp_column else sql.SQL("")
        statement = sql.SQL(
            "UPDATE {table} SET {column} = %s, updated_at = now(){extra} WHERE id = ("
            "SELECT id FROM {table} WHERE {column} = %s ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)"
        ).format(table=sql.Identifier(table), column=sql.Identifier(column), extra=extra)
        updated = conn.execute(statement, (new, old)).rowcount
        if updated:
            return updated
    max_id = state.max_ids.get((source_db, table), 0)
    if max_id < 1:
        return 0
    statement = sql.SQL("UPDATE {} SET updated_at = now() WHERE id = %s").format(sql.Identifier(table))
    return conn.execute(statement, (rng.randint(1, max_id),)).rowcount


def _close_due_auctions(state: _LiveState, rng: random.Random, counts: LiveTrafficCounts) -> None:
    """Close live auctions whose end passed: winner (if reserve met) and seller payout."""
    conn = state.connections["bidbaas_db"]
    with conn.cursor(row_factory=dict_row) as cursor:
        due = cursor.execute(
            "SELECT id, seller_user_id, amount, ends_at FROM auctions"
            " WHERE status = 'live' AND ends_at < now() ORDER BY id LIMIT 20"
            " FOR UPDATE SKIP LOCKED"
        ).fetchall()
        for auction in due:
            bid = cursor.execute(
                "SELECT id, user_id, amount, currency FROM bids WHERE auction_id = %s ORDER BY amount DESC, id LIMIT 1",
                (auction["id"],),
            ).fetchone()
            cursor.execute(
                "UPDATE auctions SET status = 'closed', updated_at = now() WHERE id = %s",
                (auction["id"],),
            )
            counts.updated["bidbaas_db.auctions"] += 1
            if bid is None or bid["amount"] < auction["amount"]:
                continue
            winner = bidbaas_winner_row(auction, bid)
            winner.update(won_at=state.world.now, created_at=state.world.now)
            winner["updated_at"] = state.world.now
            winner["id"] = _insert(conn, "winners", winner)
            counts.inserted["bidbaas_db.winners"] += 1
            _insert(conn, "payouts", bidbaas_payout_row(rng, state.world, auction, winner))
            counts.inserted["bidbaas_db.payouts"] += 1


def _live_bid(state: _LiveState, rng: random.Random, counts: LiveTrafficCounts) -> None:
    conn = state.connections["bidbaas_db"]
    with conn.cursor(row_factory=dict_row) as cursor:
        auction = cursor.execute(
            "SELECT a.id, a.seller_user_id, a.amount,"
            " COALESCE(max(b.amount), a.amount * 0.7) AS best"
            " FROM auctions a LEFT JOIN bids b ON b.auction_id = a.id"
            " WHERE a.status = 'live' AND a.ends_at > now()"
            " GROUP BY a.id ORDER BY random() LIMIT 1"
        ).fetchone()
    if auction is None:
        return
    bidder = state.user(rng)
    if bidder.id == auction["seller_user_id"]:
        return
    amount = (auction["best"] * Decimal(rng.uniform(1.03, 1.2))).quantize(Decimal("0.01"))
    _insert(conn, "bids", bidbaas_bid_row(rng, auction, bidder, amount, state.world.now))
    counts.inserted["bidbaas_db.bids"] += 1


def _live_reversal(state: _LiveState, rng: random.Random, counts: LiveTrafficCounts) -> None:
    """Reverse one recent posted ledger transaction."""
    conn = state.connections["ledger_db"]
    with conn.transaction(), conn.cursor(row_factory=dict_row) as cursor:
        transaction = cursor.execute(
            "SELECT id, user_id, amount, currency FROM transactions WHERE status = 'posted'"
            " ORDER BY id DESC LIMIT 1 OFFSET %s FOR UPDATE SKIP LOCKED",
            (rng.randrange(50),),
        ).fetchone()
        if transaction is None:
            return
        _insert(conn, "reversals", ledger_reversal_row(rng, state.world, transaction, state.world.now))
        cursor.execute(
            "UPDATE transactions SET status = 'reversed', updated_at = now() WHERE id = %s",
            (transaction["id"],),
        )
    counts.inserted["ledger_db.reversals"] += 1
    counts.updated["ledger_db.transactions"] += 1


def _live_settle_yesterday(state: _LiveState, counts: LiveTrafficCounts) -> None:
    """Daily merchant settlement for yesterday's settled payments (no-op once done)."""
    inserted = (
        state.connections["sdpkt_db"]
        .execute(
            "INSERT INTO merchant_settlements (merchant_user_id, settlement_date, amount,"
            " currency, payment_count, bank_reference, status)"
            " SELECT merchant_user_id, created_at::date, sum(amount), 'ZAR', count(*),"
            "  'SDPKT' || to_char(created_at::date, 'YYMMDD') || lpad(merchant_user_id::text, 6, '0'),"
            "  'pending'"
            " FROM payments"
            " WHERE status = 'settled' AND created_at >= current_date - 1 AND created_at < current_date"
            " GROUP BY merchant_user_id, created_at::date"
            " ON CONFLICT (merchant_user_id, settlement_date) DO NOTHING"
        )
        .rowcount
    )
    if inserted > 0:
        counts.inserted["sdpkt_db.merchant_settlements"] += inserted


def _live_user_change(state: _LiveState, rng: random.Random, counts: LiveTrafficCounts) -> None:
    """Sign-up, profile change, or (rarely) a soft delete on auth_db.users."""
    conn = state.connections["auth_db"]
    roll = rng.random()
    if roll < 0.1:
        user = state.user(rng)
        conn.execute(
            "UPDATE users SET deleted_at = now(), status = 'closed', updated_at = now()"
            " WHERE id = %s AND deleted_at IS NULL",
            (user.id,),
        )
        state.world.users = [u for u in state.world.users if u.id != user.id]
        state.users_by_id.pop(user.id, None)
        counts.soft_deleted_users += 1
        counts.updated["auth_db.users"] += 1
    elif roll < 0.4:
        new_user = SeedUser(0, make_person(rng, state.world.now.date()), state.world.now, None,
                            state.world.now)  # fmt: skip
        row = user_row(new_user)
        row["public_id"] = make_uuid(rng)
        user_id = _insert(conn, "users", row)
        signed_up = SeedUser(user_id, new_user.person, state.world.now, None, state.world.now)
        state.world.users.append(signed_up)
        state.users_by_id[user_id] = signed_up
        counts.inserted["auth_db.users"] += 1
    else:
        user = state.user(rng)
        conn.execute(
            "UPDATE users SET last_ip = %s, device_id = %s, updated_at = now()"
            " WHERE id = %s AND deleted_at IS NULL",
            (make_ipv4(rng), make_device_id(rng) if rng.random() < 0.2 else user.person.device_id,
             user.id),
        )  # fmt: skip
        counts.updated["auth_db.users"] += 1


def _live_fx(state: _LiveState, rng: random.Random, counts: LiveTrafficCounts) -> None:
    """Upsert today's rates (a new day gets new rows; the same day gets revised rows)."""
    conn = state.connections["markets_db"]
    for currency in FX_CURRENCIES:
        conn.execute(
            "INSERT INTO fx_rates (rate_date, currency, zar_per_unit, source)"
            " SELECT current_date, %(currency)s,"
            "  COALESCE((SELECT zar_per_unit FROM fx_rates WHERE currency = %(currency)s"
            "            ORDER BY rate_date DESC LIMIT 1), %(start)s) * %(drift)s,"
            "  'exchangerate.host'"
            " ON CONFLICT (rate_date, currency) DO UPDATE"
            " SET zar_per_unit = EXCLUDED.zar_per_unit, updated_at = now()",
            {
                "currency": currency,
                "start": Decimal(str(FX_START_ZAR_PER_UNIT[currency])),
                "drift": Decimal(f"{math.exp(rng.gauss(0.0, FX_DAILY_VOLATILITY[currency] / 10)):.8f}"),
            },
        )
        counts.updated["markets_db.fx_rates"] += 1


def live_traffic(
    dsn_for_db: DsnForDb,
    registry,
    seconds: float,
    rows_per_second: int = 20,
    seed: int = 7,
    *,
    slice_seconds: float = 0.5,
) -> LiveTrafficCounts:
    """Insert new events and update existing rows on the primary for ``seconds``.

    About ``rows_per_second`` operations a second, committed per database every
    ``slice_seconds``: ~70% new event rows, ~25% updates (status moves or updated_at touches),
    the rest user sign-ups, profile changes and soft deletes. Also closes BidBaas auctions that
    ended and refreshes today's FX rates.
    """
    rng = random.Random(f"{seed}:live")
    counts = LiveTrafficCounts()
    sources = {source.name for source in registry.sources if source.name in GENERATORS}
    connections = {name: psycopg.connect(dsn_for_db(name), autocommit=True) for name in sources}
    started = time.monotonic()
    try:
        world = World(seed=seed, scale=1, now=dt.datetime.now(dt.UTC).replace(microsecond=0))
        state = _LiveState(connections, world)
        state.load(registry)
        if not world.users:
            raise RuntimeError("auth_db.users is empty: run seed() before live_traffic()")
        event_tables = [
            (t.source_db, t.name)
            for t in registry.tables()
            if t.kind == "event" and t.source_db in GENERATORS and t.key not in BATCH_EVENT_TABLES
        ]
        event_weights = [LIVE_EVENT_WEIGHTS.get(f"{db}.{table}", 1.0) for db, table in event_tables]
        update_tables = [
            (t.source_db, t.name)
            for t in registry.tables()
            if t.is_incremental and t.primary_key == ("id",) and t.source_db in GENERATORS
        ]
        deadline = started + seconds
        next_settlement_check = 0.0
        carry = 0.0
        while True:
            slice_started = time.monotonic()
            if slice_started >= deadline:
                break
            world.now = dt.datetime.now(dt.UTC).replace(microsecond=0)
            carry += rows_per_second * slice_seconds
            operations, carry = int(carry), carry - int(carry)
            for _ in range(operations):
                _live_operation(state, rng, counts, event_tables, event_weights, update_tables)
            if "bidbaas_db" in connections:
                _close_due_auctions(state, rng, counts)
            if "sdpkt_db" in connections and time.monotonic() >= next_settlement_check:
                _live_settle_yesterday(state, counts)
                next_settlement_check = time.monotonic() + 60
            if "markets_db" in connections and rng.random() < 0.02:
                _live_fx(state, rng, counts)
            time.sleep(max(0.0, min(slice_seconds - (time.monotonic() - slice_started),
                                    deadline - time.monotonic())))  # fmt: skip
    finally:
        for conn in connections.values():
            conn.close()
    counts.seconds = time.monotonic() - started
    return counts


def _live_operation(
    state: _LiveState,
    rng: random.Random,
    counts: LiveTrafficCounts,
    event_tables: list[tuple[str, str]],
    event_weights: list[float],
    update_tables: list[tuple[str, str]],
) -> None:
    roll = rng.random()
    if roll < 0.70 and event_tables:
        source_db, table = rng.choices(event_tables, event_weights)[0]
        special = {("bidbaas_db", "bids"): _live_bid, ("ledger_db", "reversals"): _live_reversal}
        if (source_db, table) in special:
            special[(source_db, table)](state, rng, counts)
            return
        built = _live_insert(state, rng, source_db, table)
        new_id = _insert(state.connections[source_db], *built) if built is not None else None
        if new_id is not None:
            counts.inserted[f"{source_db}.{table}"] += 1
            if isinstance(new_id, int):
                key = (source_db, table)
                state.max_ids[key] = max(state.max_ids.get(key, 0), new_id)
    elif roll < 0.95 and update_tables:
        source_db, table = rng.choice(update_tables)
        if _live_update(state, rng, source_db, table):
            counts.updated[f"{source_db}.{table}"] += 1
    elif "auth_db" in state.connections:
        _live_user_change(state, rng, counts)


# =============================================================================== CLI


def dsn_from_template(template: str) -> DsnForDb:
    if "{db}" not in template:
        raise ValueError(f"{DSN_TEMPLATE_ENV} must contain '{{db}}', got a template without it")
    return lambda database: template.format(db=database)


def ensure_databases(dsn_for_db: DsnForDb, registry, maintenance_db: str = "postgres") -> None:
    """Create any missing source database (local throwaway clusters only)."""
    with psycopg.connect(dsn_for_db(maintenance_db), autocommit=True) as conn:
        existing = {row[0] for row in conn.execute("SELECT datname FROM pg_database")}
        for source in registry.sources:
            if source.name not in existing:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(source.name)))
                log.info("created database %s", source.name)


def main(argv: list[str] | None = None) -> int:
    from dataacuity.registry import load_registry  # plugins/ is on sys.path (see below)

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=1, help="1 = demo size (~2,000 users)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--live", type=float, default=0.0, metavar="SECONDS",
                        help="after seeding, run live traffic for this many seconds")  # fmt: skip
    parser.add_argument("--rate", type=int, default=20, help="live operations per second")
    parser.add_argument("--reset", action="store_true",
                        help="truncate and reload databases that already have rows")  # fmt: skip
    parser.add_argument("--create-databases", action="store_true",
                        help="create missing source databases first (throwaway clusters)")  # fmt: skip
    parser.add_argument("--registry", type=Path, default=None, help="path to sources.yml")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    template = os.environ.get(DSN_TEMPLATE_ENV)
    if not template:
        parser.error(f"set {DSN_TEMPLATE_ENV}, e.g. postgresql://postgres:...@127.0.0.1:54104/{{db}}")
    dsn_for_db = dsn_from_template(template)
    registry = load_registry(args.registry)

    if args.create_databases:
        ensure_databases(dsn_for_db, registry)
    started = time.monotonic()
    apply_source_schemas(dsn_for_db, registry)
    counts = seed(dsn_for_db, registry, scale=args.scale, seed=args.seed, reset=args.reset)
    width = max(map(len, counts))
    for key, count in counts.items():
        print(f"{key:<{width}}  {count:>8,}")
    print(f"{'total':<{width}}  {sum(counts.values()):>8,}  ({time.monotonic() - started:.1f}s)")
    if args.live > 0:
        live = live_traffic(dsn_for_db, registry, args.live, args.rate, seed=args.seed + 1)
        print(f"live traffic: {live.as_dict()}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO_ROOT / "plugins"))
    sys.exit(main())
