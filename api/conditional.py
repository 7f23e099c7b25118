"""Conditional GETs: whether a request's `If-None-Match` names a response's entity tag."""

from __future__ import annotations


def wanted_tags(if_none_match: str | None) -> set[str]:
    """The entity tags an `If-None-Match` value names, without their weak marks (for a GET they
    are compared weakly, RFC 9110 13.1.2); `*` stays as it is."""
    if not if_none_match:
        return set()
    return {tag.strip().removeprefix("W/") for tag in if_none_match.split(",") if tag.strip()}


def names(wanted: set[str], etag: str) -> bool:
    """`wanted` (from `wanted_tags`) names `etag`, or anything at all."""
    return "*" in wanted or etag.removeprefix("W/") in wanted


def unchanged(if_none_match: str | None, etag: str) -> bool:
    """The client already has the representation tagged `etag`: answer 304."""
    return names(wanted_tags(if_none_match), etag)
