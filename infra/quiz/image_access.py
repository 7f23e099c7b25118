"""Who may see an image, read from the reference read model and decided by the domain's rule
(`domain.quiz.image.may_view`)."""

from __future__ import annotations

from typing import NamedTuple

import asyncpg

from domain.quiz.image import may_view
from infra.spine.readmodels import quote_ident


class ImageMeta(NamedTuple):
    sha: str
    content_type: str
    public: bool


class ImageAccess:
    def __init__(self, pool: asyncpg.Pool, schema: str) -> None:
        self._pool = pool
        s = quote_ident(schema)
        self._sql = f"""
SELECT i.content_type,
  EXISTS (SELECT 1 FROM {s}.quiz_image_refs r
          WHERE r.sha = i.sha AND r.kind = 'game' AND r.public) AS public,
  ARRAY (SELECT r.ref_id FROM {s}.quiz_image_refs r
         WHERE r.sha = i.sha AND r.kind = 'session') AS sessions,
  ARRAY (SELECT p.session_id FROM {s}.quiz_image_refs r
         JOIN {s}.quiz_participants p ON p.session_id = r.ref_id AND p.who = ANY($2::text[])
         WHERE r.sha = i.sha AND r.kind = 'session') AS mine,
  (i.uploader = $3 OR EXISTS (
      SELECT 1 FROM {s}.quiz_image_refs r JOIN {s}.quiz_games g ON g.game_id = r.ref_id
      WHERE r.sha = i.sha AND r.kind = 'game' AND (g.owner = $3 OR $3 = ANY (g.admins))
  )) AS editing
FROM {s}.quiz_images i WHERE i.sha = $1 AND NOT i.deleted
"""

    async def visible(
        self, sha: str, *, user: str | None, player_hashes: list[str]
    ) -> ImageMeta | None:
        """The image, if the caller may see it (None: it does not exist, for them)."""
        who = [f"player:{h}" for h in player_hashes]
        if user is not None:
            who.append(f"account:{user}")
        record = await self._pool.fetchrow(self._sql, sha, who, user)
        if record is None:
            return None
        content_type, public, sessions, mine, editing = record
        if not may_view(
            public=public, using_sessions=sessions, caller_sessions=mine, editing=bool(editing)
        ):
            return None
        return ImageMeta(sha, content_type, public)
