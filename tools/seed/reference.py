"""Reference data for the synthetic sources: South African names, cities, prefixes, FX, volumes."""

from __future__ import annotations

from dataclasses import dataclass

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
