"""Row builders of the 18 apps: one function per table, shared by the seed and live traffic.
Each returns a dict in the table's column order; the seed passes ``id``, live traffic omits it."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from decimal import Decimal

from tools.seed.people import (
    haversine_km,
    make_device_id,
    make_ipv4,
    make_street_address,
    make_uuid,
    money,
    point_in_city,
    point_near,
)
from tools.seed.reference import AFRIKAANS_FIRST_NAMES, USER_AGENTS, ZULU_FIRST_NAMES, City
from tools.seed.world import Row, SeedUser, World

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
