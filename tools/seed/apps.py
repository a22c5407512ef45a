"""Per-database generators (``GENERATORS``): every table of one source database for a world,
parents first; ``make_world`` and ``generate_database``."""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal

from tools.seed.people import (
    make_device_id,
    make_ipv4,
    make_postal_code,
    make_sa_mobile,
    make_street_address,
    money,
    pick_city,
    point_in_city,
    random_time_between,
)
from tools.seed.reference import CITIES_BY_NAME, FX_CURRENCIES, FX_DAILY_VOLATILITY, FX_START_ZAR_PER_UNIT, City
from tools.seed.rows import (
    BUTLER_CATEGORIES,
    TRANSIT_SYSTEMS,
    VENUE_KINDS,
    bidbaas_auction_row,
    bidbaas_bid_row,
    bidbaas_payout_row,
    bidbaas_winner_row,
    bigbruh_page_view_row,
    butler_task_row,
    kyc_verification_row,
    ledger_account_row,
    ledger_hold_row,
    ledger_reversal_row,
    ledger_transaction_row,
    login_row,
    mesh_sample_row,
    notification_delivery_row,
    sdpkt_hold_row,
    sdpkt_payment_row,
    sdpkt_wallet_row,
    slepton_booking_row,
    tagme_tag_row,
    takemehome_trip_row,
    transit_tap_row,
    trustseal_review_row,
    txtme_message_row,
    user_row,
    whatwewant_vote_row,
    whatwewant_wish_row,
)
from tools.seed.world import Row, TableRows, World, build_users


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
