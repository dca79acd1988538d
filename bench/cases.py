"""The requests of each case: warm-up, measured run and one-at-a-time meter."""

from __future__ import annotations

from dataclasses import dataclass

from bench.data import Scale
from bench.operations import (
    HttpRequest,
    Peer,
    floor_plan,
    o1_plan,
    o2_plan,
    o3_plan,
    o4_plan,
    r1_plan,
    scaling_plan,
)

# O4 writes: every peer and phase moves its own block of customers, so no run
# finds customers another run already moved. The last block is the smoke check's.
_O4_PHASES = ("warmup", "measured", "meter")
O4_BLOCKS = len(Peer) * len(_O4_PHASES) + 1
IDENTITY_BLOCK = O4_BLOCKS - 1


@dataclass(frozen=True, slots=True)
class CasePlans:
    warmup: list[HttpRequest]
    measured: list[HttpRequest]
    meter: list[HttpRequest]


def _o4(peer: Peer, scale: Scale, phase: str) -> list[HttpRequest]:
    block = list(Peer).index(peer) * len(_O4_PHASES) + _O4_PHASES.index(phase)
    return o4_plan(peer.style, scale, block=block, blocks=O4_BLOCKS)


def case_plans(operation: str, peer: Peer, scale: Scale) -> CasePlans:
    if operation == "O4":
        return CasePlans(*(_o4(peer, scale, phase) for phase in _O4_PHASES))
    build = {
        "floor": floor_plan,
        "O1": o1_plan,
        "O2": o2_plan,
        "O3": o3_plan,
        "R1": r1_plan,
    }[operation]
    plan = build(peer.style, scale)
    return CasePlans(warmup=plan, measured=plan, meter=plan)


def scaling_plans(peer: Peer, first: int) -> CasePlans:
    plan = scaling_plan(peer.style, first)
    return CasePlans(warmup=plan, measured=plan, meter=plan)
