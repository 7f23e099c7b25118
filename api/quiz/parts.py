"""What the quiz handlers receive: their running parts, as the dependency `quiz`."""

from __future__ import annotations

from dataclasses import dataclass

from api.node import parts_provider
from commands.quiz.quizzes import Quizzes
from infra.quiz.catalog import GamesView
from infra.quiz.collector import ImageStore
from infra.quiz.hub import QuizHub
from infra.quiz.image_access import ImageAccess
from infra.quiz.images import CachedBlobs
from infra.quiz.runtime import QuizRuntime
from infra.quiz.sessions_view import SessionsView

NAME = "quiz"


@dataclass
class QuizParts:
    quizzes: Quizzes
    games: GamesView
    sessions: SessionsView
    runtime: QuizRuntime
    hub: QuizHub
    images: ImageStore
    access: ImageAccess
    blobs: CachedBlobs


provide_quiz = parts_provider(NAME, QuizParts)
