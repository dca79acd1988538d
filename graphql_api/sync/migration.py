"""What both migration directions share: a run's inputs, its report, its phases.

Each direction copies one segment of one phase at a time (`copy_segment`);
`migrate` runs every segment of each phase from its checkpoint, phases in the
order parents come before children, and reports what changed, per kind of
record (reps, customers, events).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from asyncmy.cursors import Cursor
from asyncmy.pool import Pool

from graphql_api.sync import checkpoints
from graphql_api.sync.counts import SyncCounts
from graphql_api.sync.dynamodb_rows import PHASES
from graphql_api.sync.progress import Progress
from graphql_api.sync.rejects import RejectsFile

if TYPE_CHECKING:
    from types_aiobotocore_dynamodb.client import DynamoDBClient


@dataclass
class MigrationReport:
    counts: dict[str, SyncCounts] = field(default_factory=lambda: {p: SyncCounts() for p in PHASES})
    resumed: bool = False
    items_per_second: float = 0.0

    @property
    def total(self) -> SyncCounts:
        total = SyncCounts()
        for counts in self.counts.values():
            total.add(counts)
        return total


@dataclass
class Migration:
    """One run, in either direction."""

    client: DynamoDBClient
    table: str
    pool: Pool
    segments: int
    # Rows a MySQL page holds; items a Scan page holds at most (None: DynamoDB's 1 MB).
    page_size: int | None
    dry_run: bool
    rejects: RejectsFile
    progress: Progress
    report: MigrationReport = field(default_factory=MigrationReport)
    # Ids accepted in this run, by kind ("reps", "customers"): in a dry run they are
    # not in the target, yet children may rightly refer to them. Only reps are kept
    # across batches (customers come with their events), so this stays small.
    accepted: dict[str, set[str]] = field(
        default_factory=lambda: {"reps": set(), "customers": set()}
    )

    async def save_checkpoint(
        self,
        cursor: Cursor,
        migration: str,
        phase: str,
        segment: int,
        position: str | None,
        *,
        done: bool,
    ) -> None:
        """Where a segment got to; a dry run saves none."""
        if self.dry_run:
            return
        await checkpoints.save(
            cursor,
            migration=migration,
            phase=phase,
            segment=segment,
            segments=self.segments,
            position=position,
            done=done,
        )


CopySegment = Callable[[Migration, str, int, checkpoints.Checkpoint | None], Awaitable[None]]


async def migrate(
    run: Migration,
    *,
    name: str,
    phases: Sequence[str],
    copy_segment: CopySegment,
    restart: bool,
) -> MigrationReport:
    """Every segment of each of `phases` in turn (the checkpoints' phases, which the
    report's need not be), from its checkpoint."""

    async def segment(phase: str, number: int, start: checkpoints.Checkpoint | None) -> None:
        await copy_segment(run, phase, number, start)

    run.report.resumed = await checkpoints.run_in_phases(
        pool=run.pool,
        migration=name,
        phases=phases,
        segments=run.segments,
        dry_run=run.dry_run,
        restart=restart,
        segment=segment,
    )
    run.report.items_per_second = run.progress.close()
    return run.report
