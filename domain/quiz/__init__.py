"""Live quiz sessions: games of tasks (`game`), the sessions that play them (`session`), their
invite codes (`invite`) and images (`image`); scoring and the tasks' rules are pure functions
(`scoring`, `tasks`)."""
