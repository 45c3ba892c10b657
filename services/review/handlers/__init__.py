"""Review's use cases, one module per area (the other services keep theirs in one handlers.py;
review's are too many for one file). The spine's are importable from here directly.

projects: the read model and its search index · calls · screening · experts · assignment ·
scoring · ranking (and the selection) · search_extras · audit_log · duplicates.
"""

from services.review.handlers.projects import (
    project_count,
    rebuild_index,
    record_forwarded,
    record_withdrawn,
    reset_index_marks,
    sync_index,
)

__all__ = ["project_count", "rebuild_index", "record_forwarded", "record_withdrawn", "reset_index_marks", "sync_index"]
