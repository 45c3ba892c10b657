"""Duplicate detection for the review service (seeds 000, 四.2: each project is submitted once
only, and never through different channels).

Flow: ``compute_signals`` once per application -> store ``ProjectSignals`` and index its
``candidate_keys`` -> for a check, look up candidates in the index -> ``score_pair`` each in
Python -> ``cluster`` the suspicions -> staff record a ``Settlement``. See docs/duplicates.md.
"""

from .clustering import cluster
from .detector import (
    FLAG_THRESHOLD,
    Reason,
    Suspicion,
    compare,
    explain_pair,
    find_suspicions,
    most_similar,
    score_pair,
)
from .index import InMemoryCandidateIndex
from .settlement import (
    Settlement,
    is_settled,
    is_suppressed,
    settle_different_projects,
    settle_same_project,
)
from .signals import SIGNALS_VERSION, ProjectSignals, candidate_keys, compute_signals
from .similarity import TermStats

__all__ = [
    "FLAG_THRESHOLD",
    "SIGNALS_VERSION",
    "InMemoryCandidateIndex",
    "ProjectSignals",
    "Reason",
    "Settlement",
    "Suspicion",
    "TermStats",
    "candidate_keys",
    "cluster",
    "compare",
    "compute_signals",
    "explain_pair",
    "find_suspicions",
    "is_settled",
    "is_suppressed",
    "most_similar",
    "score_pair",
    "settle_different_projects",
    "settle_same_project",
]
