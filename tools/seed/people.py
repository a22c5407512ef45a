"""Generators and validators of personal data: SA ID numbers (Luhn), mobiles, e-mails, places,
devices and IPs, money and times; ``make_person``."""

from __future__ import annotations

import bisect
import datetime as dt
import math
import random
import re
import unicodedata
import uuid
from dataclasses import dataclass
from decimal import Decimal

from tools.seed.reference import (
    _CITY_CUMULATIVE_WEIGHTS,
    CITIES,
    EMAIL_DOMAINS,
    NAME_POOLS,
    PUBLIC_IP_FIRST_OCTETS,
    SA_LATITUDE_RANGE,
    SA_LONGITUDE_RANGE,
    SA_MOBILE_PREFIXES,
    STREET_NAMES,
    STREET_SUFFIXES,
    City,
)


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
