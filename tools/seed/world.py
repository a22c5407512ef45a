"""The generated world: users (``SeedUser``), rows per table (``TableRows``) and the ``World``
that ties a seed, a scale and a 'now' together."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any

from tools.seed.people import Person, make_person, random_time_between
from tools.seed.reference import EVENT_ROWS_PER_SCALE, HISTORY_DAYS, SOFT_DELETED_USER_SHARE, USERS_PER_SCALE

Row = dict[str, Any]


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
