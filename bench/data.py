"""Deterministic benchmark rows, loaded with multi-row INSERTs.

Every rep looks after the same number of customers, so O2 always returns a full
page; one extra rep (the scaling rep) holds enough customers for O2 with
first = 1,000. All reps are active, so every O4 assignment is a real write.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bench.database import Database

_SEED = 20240601
_EPOCH = datetime(2024, 1, 1, 9, 0, tzinfo=UTC)
_ROWS_PER_INSERT = 1_000


def _words(text: str) -> tuple[str, ...]:
    """A word list written as a paragraph, so it reads as one (and formats as one)."""
    return tuple(text.split())


_FIRST_NAMES = _words(
    "Ada Ben Chloe Dmitri Elena Farid Grace Hiro Ines Jonas"
    " Keiko Liam Maya Nils Olga Pedro Quinn Rosa Sven Tara"
)
_LAST_NAMES = _words(
    "Alvarez Becker Chen Dubois Eriksen Fischer Garcia Hansen"
    " Ivanova Jensen Kowalski Larsen Moreau Novak Okafor Petrov"
)
_COMPANY_WORDS = _words(
    "Acme Blue Cedar Delta Echo Falcon Granite Harbor Iron"
    " Juniper Kestrel Lumen Maple Nimbus Orchid Pioneer Quartz"
)
_COMPANY_KINDS = ("Labs", "Foods", "Logistics", "Systems", "Retail", "Health", "Energy", "Media")
_PLACES = (
    ("US", "CA", "San Jose"),
    ("US", "NY", "Albany"),
    ("US", "TX", "Austin"),
    ("CA", "ON", "Toronto"),
    ("DE", "BY", "Munich"),
    ("FR", "IDF", "Paris"),
)
_STREETS = ("Main St", "Oak Ave", "Pine Rd", "Elm St", "Lake Dr", "Hill Rd", "Park Ave")
_STATUSES = ("PROSPECT", "ACTIVE", "INACTIVE", "CHURNED")

SCALING_REP_ID = "SR-SCALE"


@dataclass(frozen=True, slots=True)
class Scale:
    name: str
    sales_reps: int
    customers_per_rep: int
    scaling_rep_customers: int

    @property
    def customers(self) -> int:
        """Customers of the ordinary reps (the scaling rep's come on top)."""
        return self.sales_reps * self.customers_per_rep


SCALES = {
    scale.name: scale
    for scale in (
        # Enough for O3 (20 reps x 20 customers) and six disjoint O4 blocks.
        Scale("smoke", sales_reps=24, customers_per_rep=25, scaling_rep_customers=30),
        Scale("default", sales_reps=100, customers_per_rep=100, scaling_rep_customers=1_000),
        Scale("large", sales_reps=1_000, customers_per_rep=100, scaling_rep_customers=1_000),
    )
}


def sales_rep_id(number: int) -> str:
    return f"SR-{number:05d}"


def customer_id(number: int) -> str:
    return f"C-{number:07d}"


def rep_of_customer(number: int, scale: Scale) -> str:
    """The rep the data gives customer `number` (1-based); round robin over the reps."""
    if number > scale.customers:
        return SCALING_REP_ID
    return sales_rep_id((number - 1) % scale.sales_reps + 1)


Row = tuple[object, ...]


def _rep_rows(scale: Scale, rng: random.Random) -> list[Row]:
    rows: list[Row] = []
    ids = [sales_rep_id(n) for n in range(1, scale.sales_reps + 1)] + [SCALING_REP_ID]
    for number, ident in enumerate(ids, start=1):
        first = _FIRST_NAMES[(number - 1) % len(_FIRST_NAMES)]
        last = rng.choice(_LAST_NAMES)
        at = _naive(_EPOCH + timedelta(hours=number))
        email = f"{first}.{last}{number}@salepoint.example".lower()
        phone = f"+1-555-{rng.randrange(1000, 10000)}"
        rows.append((ident, first, last, email, phone, "North", True, at, at))
    return rows


def _customer_rows(number: int, scale: Scale, rng: random.Random) -> tuple[Row, list[Row]]:
    ident = customer_id(number)
    rep = rep_of_customer(number, scale)
    company = f"{rng.choice(_COMPANY_WORDS)} {rng.choice(_COMPANY_KINDS)} {number}"
    country, state, city = rng.choice(_PLACES)
    contact = f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}"
    created = _EPOCH + timedelta(days=30, minutes=number)
    events: list[Row] = [
        (ident, "CREATED", _naive(created), "seed", None, None, None, "PROSPECT", None),
        (
            ident,
            "ASSIGNED",
            _naive(created + timedelta(hours=1)),
            "seed",
            None,
            rep,
            None,
            None,
            "initial assignment",
        ),
    ]
    # Zero to four later status changes, so history(first: 5) sees short and full lists.
    status = "PROSPECT"
    for step in range(rng.randrange(0, 5)):
        later = rng.choice([s for s in _STATUSES if s != status])
        at = _naive(created + timedelta(days=step + 1))
        events.append((ident, "STATUS_CHANGED", at, "seed", None, None, status, later, None))
        status = later
    updated = events[-1][2]
    customer = (
        ident,
        company,
        contact,
        f"{contact.replace(' ', '.')}@{number}.example".lower(),
        f"+1-555-{rng.randrange(1000, 10000)}",
        f"{rng.randrange(1, 999)} {rng.choice(_STREETS)}",
        city,
        state,
        f"{rng.randrange(10000, 99999)}",
        country,
        status,
        rep,
        len(events),
        _naive(created),
        updated,
    )
    return customer, events


def _naive(value: datetime) -> datetime:
    # Columns are DATETIME(6) in UTC, as the API writes them.
    return value.astimezone(UTC).replace(tzinfo=None)


def _chunks(rows: Sequence[Row]) -> Iterator[Sequence[Row]]:
    for start in range(0, len(rows), _ROWS_PER_INSERT):
        yield rows[start : start + _ROWS_PER_INSERT]


@dataclass(frozen=True, slots=True)
class LoadedCounts:
    sales_reps: int
    customers: int
    events: int

    def as_json(self) -> dict[str, int]:
        return {"sales_reps": self.sales_reps, "customers": self.customers, "events": self.events}


def load(database: Database, scale: Scale) -> LoadedCounts:
    """Fills the (empty) tables of `database` with the rows of `scale`."""
    rng = random.Random(_SEED)
    reps = _rep_rows(scale, rng)
    customers: list[Row] = []
    events: list[Row] = []
    for number in range(1, scale.customers + scale.scaling_rep_customers + 1):
        customer, its_events = _customer_rows(number, scale, rng)
        customers.append(customer)
        events.extend(its_events)
    connection = database.connect()
    try:
        with connection.cursor() as cursor:
            # The rows are consistent by construction; skipping the checks halves the load.
            cursor.execute("SET SESSION foreign_key_checks = 0, unique_checks = 0")
            connection.begin()
            # pymysql turns executemany of INSERT ... VALUES into multi-row INSERTs.
            for chunk in _chunks(reps):
                cursor.executemany(
                    "INSERT INTO sales_reps (sales_rep_id, first_name, last_name, email, phone,"
                    " region, active, created_at, updated_at)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    chunk,
                )
            for chunk in _chunks(customers):
                cursor.executemany(
                    "INSERT INTO customers (customer_id, name, contact_person, email, phone,"
                    " address, city, state, zip_code, country, status, assigned_sales_rep_id,"
                    " version, created_at, updated_at)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    chunk,
                )
            for chunk in _chunks(events):
                cursor.executemany(
                    "INSERT INTO customer_events (customer_id, kind, occurred_at, actor,"
                    " from_sales_rep_id, to_sales_rep_id, from_status, to_status, note)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    chunk,
                )
            connection.commit()
            cursor.execute("ANALYZE TABLE sales_reps, customers, customer_events")
            cursor.fetchall()
    finally:
        connection.close()
    return LoadedCounts(sales_reps=len(reps), customers=len(customers), events=len(events))
