"""Live traffic on the primary: new events, status moves, sign-ups and profile changes."""

from __future__ import annotations

import datetime as dt
import math
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from tools.seed.apps import GENERATORS
from tools.seed.load import DsnForDb, adapt
from tools.seed.people import Person, make_device_id, make_ipv4, make_person, make_sa_mobile, make_uuid
from tools.seed.reference import CITIES, CITIES_BY_NAME, FX_CURRENCIES, FX_DAILY_VOLATILITY, FX_START_ZAR_PER_UNIT
from tools.seed.rows import (
    bidbaas_auction_row,
    bidbaas_bid_row,
    bidbaas_payout_row,
    bidbaas_winner_row,
    bigbruh_page_view_row,
    butler_task_row,
    kyc_verification_row,
    ledger_hold_row,
    ledger_reversal_row,
    ledger_transaction_row,
    login_row,
    mesh_sample_row,
    notification_delivery_row,
    sdpkt_hold_row,
    sdpkt_payment_row,
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
from tools.seed.world import Row, SeedUser, World


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
    result = conn.execute(statement, [adapt(value) for value in row.values()]).fetchone()
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
            if winner["id"] is None:  # already has a winner
                continue
            counts.inserted["bidbaas_db.winners"] += 1
            if _insert(conn, "payouts", bidbaas_payout_row(rng, state.world, auction, winner)) is not None:
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
    if _insert(conn, "bids", bidbaas_bid_row(rng, auction, bidder, amount, state.world.now)) is not None:
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
        if user_id is None:  # public_id taken: no one signed up (never keep a user without an id)
            return
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
    counts = LiveTrafficCounts()
    sources = {source.name for source in registry.sources}
    connections = {name: psycopg.connect(dsn_for_db(name), autocommit=True) for name in sources}
    started = time.monotonic()
    try:
        world = World(seed=seed, scale=1, now=dt.datetime.now(dt.UTC).replace(microsecond=0))
        state = _LiveState(connections, world)
        state.load(registry)
        if not world.users:
            raise RuntimeError("auth_db.users is empty: run seed() before live_traffic()")
        # The stream depends on the seed AND on where the previous run left the primary: a second
        # run with the same seed would otherwise replay the first one's sign-ups (same public_id).
        rng = random.Random(f"{seed}:live:{state.max_ids.get(('auth_db', 'users'), 0)}")
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
