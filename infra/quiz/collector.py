"""Uploads and the image collector, both under a per-image PostgreSQL advisory lock, so that a
deletion and an upload of the same content never interleave (the bytes and the events agree),
and the collector under a lock of its own, so that one node runs it at a time.

An image is collected when nothing references it (no game, no session that is live or ended
less than the grace period ago: the reference read model, checked again under its lock) and
nothing touched it within the grace period (its aggregate decides, and a game edit or session
start that references it meanwhile makes the deletion's save lose the race). Each deletion is an
event (`QuizImage.Deleted`); the bytes go after it is saved."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from datetime import timedelta
from typing import Any

import asyncpg

from commands.clock import utc_now
from commands.quiz.quizzes import Quizzes
from infra.quiz.images import BlobStore, CheckedImage, check_image
from infra.spine.readmodels import quote_ident

log = logging.getLogger(__name__)

COLLECTOR_LOCK = 0x5175697A_4743  # "QuizGC"


def image_lock(sha: str) -> int:
    return int.from_bytes(hashlib.sha256(f"quiz-image:{sha}".encode()).digest()[:8], "big",
                          signed=True)


class ImageStore:
    def __init__(
        self, quizzes: Quizzes, blobs: BlobStore, pool: asyncpg.Pool, schema: str, *,
        max_bytes: int, max_side: int, grace_s: int,
    ) -> None:
        self.quizzes = quizzes
        self.blobs = blobs
        self._pool = pool
        self._s = quote_ident(schema)
        self.max_bytes = max_bytes
        self.max_side = max_side
        self.grace = timedelta(seconds=grace_s)
        self.collected = 0

    async def upload(self, data: bytes, *, uploader: str) -> CheckedImage:
        checked = await asyncio.to_thread(
            check_image, data, max_bytes=self.max_bytes, max_side=self.max_side
        )
        async with self._pool.acquire() as conn:
            await conn.execute("SELECT pg_advisory_lock($1)", image_lock(checked.sha))
            try:
                await asyncio.to_thread(self.blobs.put, checked.sha, checked.data)
                await asyncio.to_thread(
                    self.quizzes.store_image,
                    sha=checked.sha, content_type=checked.content_type, width=checked.width,
                    height=checked.height, size=len(checked.data), uploader=uploader,
                )
            finally:
                await conn.execute("SELECT pg_advisory_unlock($1)", image_lock(checked.sha))
        return checked

    def _unreferenced(self, one: bool) -> str:
        return (
            f"SELECT i.sha FROM {self._s}.quiz_images i WHERE NOT i.deleted "
            "AND i.touched_at < $1 "
            + ("AND i.sha = $2 " if one else "")
            + f"AND NOT EXISTS (SELECT 1 FROM {self._s}.quiz_image_refs r WHERE r.sha = i.sha "
            "AND (r.kind = 'game' OR r.ended_at IS NULL OR r.ended_at > $1)) "
            + ("" if one else "ORDER BY i.touched_at LIMIT 1000")
        )

    async def collect(self, *, dry_run: bool = False) -> dict[str, Any]:
        """One run: what was (or, dry, would be) deleted. `ran` is False when another node
        holds the collector's lock."""
        cutoff = utc_now() - self.grace
        async with self._pool.acquire() as conn:
            if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", COLLECTOR_LOCK):
                return {"ran": False, "dry_run": dry_run, "images": []}
            try:
                candidates = [r[0] for r in await conn.fetch(self._unreferenced(False), cutoff)]
                if dry_run:
                    return {"ran": True, "dry_run": True, "images": candidates}
                deleted = [sha for sha in candidates if await self._collect_one(conn, sha)]
            finally:
                await conn.execute("SELECT pg_advisory_unlock($1)", COLLECTOR_LOCK)
        self.collected += len(deleted)
        if deleted:
            log.info("image collector deleted %d images", len(deleted))
        return {"ran": True, "dry_run": False, "images": deleted}

    async def _collect_one(self, conn: asyncpg.Connection, sha: str) -> bool:
        await conn.execute("SELECT pg_advisory_lock($1)", image_lock(sha))
        try:
            cutoff = utc_now() - self.grace
            if await conn.fetchval(self._unreferenced(True), cutoff, sha) is None:
                return False  # referenced (or touched) since the run began
            grace_ms = int(self.grace.total_seconds() * 1000)
            if not await asyncio.to_thread(self.quizzes.collect_image, sha, grace_ms=grace_ms):
                return False
            await asyncio.to_thread(self.blobs.delete, sha)
            return True
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", image_lock(sha))

    async def run_every(self, interval_s: float) -> None:
        while True:
            await asyncio.sleep(interval_s)
            try:
                await self.collect()
            except Exception:
                log.exception("the image collector failed; it runs again in %s s", interval_s)
