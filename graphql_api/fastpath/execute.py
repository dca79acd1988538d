"""Runs a request plan: response dicts built straight from records, level by level.

Each wave walks every object the previous wave produced, writes its plain
fields at once and starts a loader call for each field that needs one; only
then does it wait, so every load of a wave lands in one batch per loader
(one statement each), as the reference execution's DataLoaders batch them.
Values already in hand (a page's nodes, a primed rep) are completed in the
same wave without waiting.

Anything unusual (a loader that fails, a null where the schema promises a
value) raises Delegate: the caller then runs the request through the
reference execution, which answers it with the errors it always gave.
"""

from __future__ import annotations

import asyncio
from typing import Any

from graphql_api.context import Context
from graphql_api.fastpath.plan import FieldPlan, ObjectPlan, RequestPlan, Shape
from graphql_api.loaders import Loaders


class Delegate(Exception):
    """The reference execution must answer this request."""


class _Wave:
    """The objects one wave completes, grouped by their plan (a plan is one
    selection of the query, so every object in a group is written alike), and
    the loads it waits for."""

    __slots__ = ("groups", "waiting", "waiting_all")

    def __init__(self) -> None:
        self.groups: dict[int, tuple[ObjectPlan, list[Any], list[dict[str, Any]]]] = {}
        self.waiting: list[tuple[Shape, str, asyncio.Future[Any], dict[str, Any]]] = []
        # Loads of one field for every object of a group at once: a list of values.
        self.waiting_all: list[tuple[Shape, str, asyncio.Future[Any], list[dict[str, Any]]]] = []

    def add(self, plan: ObjectPlan, values: list[Any], outs: list[dict[str, Any]]) -> None:
        group = self.groups.get(id(plan))
        if group is None:
            # Copies: `outs` may be the very list the response holds.
            self.groups[id(plan)] = (plan, list(values), list(outs))
        else:
            group[1].extend(values)
            group[2].extend(outs)


def _complete(shape: Shape, value: Any, wave: _Wave) -> Any:
    if value is None:
        if shape.non_null:
            raise Delegate("null in a non-null field")
        return None
    kind = shape.kind
    if kind == Shape.LEAF:
        assert shape.serialize is not None
        return shape.serialize(value)
    item = shape.item
    if kind == Shape.LIST:
        assert item is not None
        if item.kind == Shape.OBJECT and not any(element is None for element in value):
            # A list of objects (a page's nodes, a history): one group entry for all.
            assert item.plan is not None
            values = value if isinstance(value, list) else list(value)
            outs: list[dict[str, Any]] = [{} for _ in values]
            wave.add(item.plan, values, outs)
            return outs
        return [_complete(item, element, wave) for element in value]
    out: dict[str, Any] = {}
    if kind == Shape.ABSTRACT:
        assert shape.plans is not None
        wave.add(shape.plans[_type_name(value)], [value], [out])
        return out
    assert shape.plan is not None
    wave.add(shape.plan, [value], [out])
    return out


_TYPE_NAMES: dict[type, str] = {}


def _type_name(value: Any) -> str:
    """The GraphQL object type of a value of a union or interface: its strawberry
    class's, as strawberry resolves the type."""
    kind = type(value)
    name = _TYPE_NAMES.get(kind)
    if name is None:
        name = _TYPE_NAMES[kind] = kind.__strawberry_definition__.name
    return name


async def run_plan(plan: RequestPlan, loaders: Loaders) -> dict[str, Any]:
    """A query's `data`; raises Delegate."""
    data: dict[str, Any] = {}
    wave = _Wave()
    wave.add(plan.fields, [None], [data])
    await _drain(wave, loaders, plan.arguments)
    return data


async def run_mutation(plan: RequestPlan, context: Context) -> dict[str, Any]:
    """A mutation's `data`: its fields one after the other, each written and its
    selection read before the next starts, as GraphQL runs mutations. Each
    outcome is left in `context.settled_mutations` until the whole operation is
    answered, so a request handed on after a write never writes twice."""
    data: dict[str, Any] = {}
    settled = context.settled_mutations
    for field in plan.fields:
        if field.typename is not None:
            data[field.key] = field.typename
            continue
        assert field.mutate is not None
        given = plan.arguments[id(field)] if field.per_request else field.arguments
        try:
            outcome = await field.mutate(context, given)
        except Exception as error:
            settled[field.key] = error
            raise
        settled[field.key] = outcome
        wave = _Wave()
        data[field.key] = _complete(field.shape, outcome, wave)
        await _drain(wave, context.loaders, plan.arguments)
    settled.clear()
    return data


async def _drain(wave: _Wave, loaders: Loaders, arguments: dict[int, Any]) -> None:
    """Completes a wave and every wave after it."""
    while wave.groups:
        following = _Wave()
        groups = wave.groups
        # Groups added while this runs (values in hand) complete in this wave.
        while groups:
            key = next(iter(groups))
            fields, values, outs = groups.pop(key)
            for field in fields:
                _write(field, values, outs, wave, loaders, arguments)
        if wave.waiting or wave.waiting_all:
            await _settle([entry[2] for entry in (*wave.waiting, *wave.waiting_all)])
            for shape, key, future, out in wave.waiting:
                out[key] = _complete(shape, future.result(), following)
            for shape, key, future, outs in wave.waiting_all:
                _complete_all(shape, key, future.result(), outs, following)
        wave = following


def _write(
    field: FieldPlan,
    values: list[Any],
    outs: list[dict[str, Any]],
    wave: _Wave,
    loaders: Loaders,
    arguments: dict[int, Any],
) -> None:
    """One field of every object in a group (field by field keeps each loop tight)."""
    key = field.key
    shape = field.shape
    read = field.read
    if read is not None:
        serialize = shape.serialize
        assert serialize is not None
        unchanged = shape.unchanged
        for value, out in zip(values, outs, strict=True):
            raw = read(value)
            if type(raw) is unchanged:
                out[key] = raw
            elif raw is None:
                if shape.non_null:
                    raise Delegate("null in a non-null field")
                out[key] = None
            else:
                out[key] = serialize(raw)
        return
    if field.typename is not None:
        for out in outs:
            out[key] = field.typename
        return
    assert field.resolve is not None
    given = arguments[id(field)] if field.per_request else field.arguments
    resolved = field.resolve(values, given, loaders)
    if isinstance(resolved, asyncio.Future):
        # One load for every object of the group.
        if resolved.done():
            _complete_all(shape, key, resolved.result(), outs, wave)
            return
        for out in outs:
            out[key] = None  # keeps the key's place in the response
        wave.waiting_all.append((shape, key, resolved, outs))
        return
    waiting = wave.waiting
    for raw, out in zip(resolved, outs, strict=True):
        if isinstance(raw, asyncio.Future):
            if not raw.done():
                # Keeps the key's place in the response; the wave's end fills it.
                out[key] = None
                waiting.append((shape, key, raw, out))
                continue
            raw = raw.result()
        out[key] = _complete(shape, raw, wave)


def _complete_all(
    shape: Shape, key: str, values: list[Any], outs: list[dict[str, Any]], wave: _Wave
) -> None:
    for value, out in zip(values, outs, strict=True):
        out[key] = _complete(shape, value, wave)


async def _settle(waiting: list[asyncio.Future[Any]]) -> None:
    """Waits for the wave's loads; a failed one fails the request, after every
    other has settled (strawberry, answering next, finds them in the loaders).
    Cancelled (the request timeout), it stops at once and waits for nothing."""
    try:
        for future in waiting:
            await future
    except asyncio.CancelledError:
        for future in waiting:
            # Whatever a load still in flight ends with is noted, never logged
            # as an exception nobody retrieved.
            future.add_done_callback(_retrieve)
        raise
    except Exception:
        await asyncio.gather(*waiting, return_exceptions=True)
        raise


def _retrieve(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()
