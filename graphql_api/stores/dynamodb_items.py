"""The DynamoDB key schema, and records to items and back.

One table (single-table design), every key a string:

| item      | pk                | sk                   | gsi1pk (by_sales_rep) | gsi1sk        | gsi2pk (by_kind) | gsi2sk |
|-----------|-------------------|----------------------|-----------------------|---------------|------------------|--------|
| customer  | CUSTOMER#<id>     | PROFILE              | SALESREP#<rep id> (1) | CUSTOMER#<id> | CUSTOMER         | <id>   |
| sales rep | SALESREP#<id>     | PROFILE              |                       |               | SALESREP         | <id>   |
| event     | CUSTOMER#<cust id>| EVENT#<event id, 20 digits> |                |               |                  |        |

(1) only while the customer has a rep, so the index stays sparse.

- A customer's events share its partition, sorted by zero-padded event id:
  newest first is one Query with ScanIndexForward=False and Limit=first.
- `by_sales_rep` lists a rep's customers in id order (Query, paginated).
- `by_kind` lists all customers or all reps in id order without a Scan. Its
  two partitions are hot at scale; that is accepted for a fallback store and
  would be sharded (CUSTOMER#<n>) before it served as a primary.
- Attributes that are None are left out; `name_lower` backs the
  case-insensitive name filter, since DynamoDB's contains() is case-sensitive.
"""  # noqa: E501 - the table is easier to read unwrapped

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from graphql_api.stores.records import (
    EDITABLE_CUSTOMER_FIELDS,
    CustomerEventKind,
    CustomerEventRecord,
    CustomerRecord,
    CustomerStatus,
    DataSource,
    SalesRepRecord,
)

if TYPE_CHECKING:
    from typing import TypeAlias

    from types_aiobotocore_dynamodb.type_defs import AttributeValueTypeDef

    Item: TypeAlias = dict[str, AttributeValueTypeDef]

PK, SK = "pk", "sk"
BY_SALES_REP, BY_KIND = "by_sales_rep", "by_kind"
GSI1PK, GSI1SK = "gsi1pk", "gsi1sk"
GSI2PK, GSI2SK = "gsi2pk", "gsi2sk"
PROFILE = "PROFILE"
CUSTOMER_KIND, SALES_REP_KIND = "CUSTOMER", "SALESREP"
EVENT_PREFIX = "EVENT#"
_EVENT_ID_DIGITS = 20

# The table's definition, used by `graphql-api dynamodb create-table` and to
# check that an existing table has the same keys.
KEY_SCHEMA = {PK: "HASH", SK: "RANGE"}
INDEXES = {
    BY_SALES_REP: {GSI1PK: "HASH", GSI1SK: "RANGE"},
    BY_KIND: {GSI2PK: "HASH", GSI2SK: "RANGE"},
}


def customer_pk(customer_id: str) -> str:
    return f"CUSTOMER#{customer_id}"


def sales_rep_pk(sales_rep_id: str) -> str:
    return f"SALESREP#{sales_rep_id}"


def event_sk(event_id: int) -> str:
    return f"{EVENT_PREFIX}{event_id:0{_EVENT_ID_DIGITS}d}"


def customer_key(customer_id: str) -> Item:
    return {PK: {"S": customer_pk(customer_id)}, SK: {"S": PROFILE}}


def sales_rep_key(sales_rep_id: str) -> Item:
    return {PK: {"S": sales_rep_pk(sales_rep_id)}, SK: {"S": PROFILE}}


def _time(value: datetime) -> str:
    # ISO 8601 with offset: exact round trip, and sorts by time within UTC.
    return value.isoformat()


def _with_texts(item: Item, texts: dict[str, str | None]) -> Item:
    for name, value in texts.items():
        if value is not None:
            item[name] = {"S": value}
    return item


def customer_item(record: CustomerRecord) -> Item:
    item: Item = {
        **customer_key(record.id),
        GSI2PK: {"S": CUSTOMER_KIND},
        GSI2SK: {"S": record.id},
        "id": {"S": record.id},
        "name_lower": {"S": record.name.lower()},
        "status": {"S": record.status.value},
        "version": {"N": str(record.version)},
        "created_at": {"S": _time(record.created_at)},
        "updated_at": {"S": _time(record.updated_at)},
    }
    if record.sales_rep_id is not None:
        item[GSI1PK] = {"S": sales_rep_pk(record.sales_rep_id)}
        item[GSI1SK] = {"S": customer_pk(record.id)}
    texts = {field: getattr(record, field) for field in EDITABLE_CUSTOMER_FIELDS}
    return _with_texts(item, {**texts, "sales_rep_id": record.sales_rep_id})


def sales_rep_item(record: SalesRepRecord) -> Item:
    item: Item = {
        **sales_rep_key(record.id),
        GSI2PK: {"S": SALES_REP_KIND},
        GSI2SK: {"S": record.id},
        "id": {"S": record.id},
        "active": {"BOOL": record.active},
        "created_at": {"S": _time(record.created_at)},
        "updated_at": {"S": _time(record.updated_at)},
    }
    return _with_texts(
        item,
        {
            "first_name": record.first_name,
            "last_name": record.last_name,
            "email": record.email,
            "phone": record.phone,
            "region": record.region,
        },
    )


def event_item(record: CustomerEventRecord) -> Item:
    item: Item = {
        PK: {"S": customer_pk(record.customer_id)},
        SK: {"S": event_sk(record.id)},
        "event_id": {"N": str(record.id)},
        "customer_id": {"S": record.customer_id},
        "kind": {"S": record.kind.value},
        "at": {"S": _time(record.at)},
    }
    return _with_texts(
        item,
        {
            "actor": record.actor,
            "from_sales_rep_id": record.from_sales_rep_id,
            "to_sales_rep_id": record.to_sales_rep_id,
            "note": record.note,
            "from_status": record.from_status.value if record.from_status else None,
            "to_status": record.to_status.value if record.to_status else None,
        },
    )


def _text(item: Item, name: str) -> str | None:
    value = item.get(name)
    return None if value is None else value["S"]


def _required(item: Item, name: str) -> str:
    return item[name]["S"]


def _status(item: Item, name: str) -> CustomerStatus | None:
    value = _text(item, name)
    return None if value is None else CustomerStatus(value)


def customer_record(item: Item) -> CustomerRecord:
    # The id and the name are required: a missing one raises KeyError, naming it.
    texts: dict[str, Any] = {"id": _required(item, "id"), "name": _required(item, "name")}
    for field in EDITABLE_CUSTOMER_FIELDS:
        texts.setdefault(field, _text(item, field))
    return CustomerRecord(
        **texts,
        status=CustomerStatus(_required(item, "status")),
        sales_rep_id=_text(item, "sales_rep_id"),
        version=int(item["version"]["N"]),
        created_at=datetime.fromisoformat(_required(item, "created_at")),
        updated_at=datetime.fromisoformat(_required(item, "updated_at")),
        source=DataSource.DYNAMODB,
    )


def sales_rep_record(item: Item) -> SalesRepRecord:
    return SalesRepRecord(
        id=_required(item, "id"),
        first_name=_required(item, "first_name"),
        last_name=_required(item, "last_name"),
        email=_required(item, "email"),
        phone=_text(item, "phone"),
        region=_text(item, "region"),
        active=item["active"]["BOOL"],
        created_at=datetime.fromisoformat(_required(item, "created_at")),
        updated_at=datetime.fromisoformat(_required(item, "updated_at")),
        source=DataSource.DYNAMODB,
    )


def event_record(item: Item) -> CustomerEventRecord:
    return CustomerEventRecord(
        id=int(item["event_id"]["N"]),
        customer_id=_required(item, "customer_id"),
        kind=CustomerEventKind(_required(item, "kind")),
        at=datetime.fromisoformat(_required(item, "at")),
        actor=_text(item, "actor"),
        from_sales_rep_id=_text(item, "from_sales_rep_id"),
        to_sales_rep_id=_text(item, "to_sales_rep_id"),
        from_status=_status(item, "from_status"),
        to_status=_status(item, "to_status"),
        note=_text(item, "note"),
    )
