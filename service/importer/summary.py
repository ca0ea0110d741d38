"""What an import did: counts per kind of item, and the conflicts and failures, for the final report."""
from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Summary:
    counts: Counter = field(default_factory=Counter)
    conflicts: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    planned: list[str] = field(default_factory=list)  # --dry-run: what would be copied
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, name: str, n: int = 1) -> None:
        with self._lock:
            self.counts[name] += n

    def conflict(self, what: str) -> None:
        with self._lock:
            self.conflicts.append(what)

    def failure(self, what: str) -> None:
        with self._lock:
            self.failures.append(what)

    def note(self, what: str) -> None:
        with self._lock:
            if what not in self.notes:
                self.notes.append(what)

    def plan(self, what: str) -> None:
        with self._lock:
            self.planned.append(what)

    def exit_code(self) -> int:
        """0 all copied; 1 some items failed (run again to resume); 3 copied, with conflicts."""
        if self.failures:
            return 1
        return 3 if self.conflicts else 0

    def render(self, dry_run: bool = False) -> str:
        c = self.counts
        lines = ["dry run: nothing was written" if dry_run else "import summary"]
        if dry_run:
            lines += [f"  would {p}" for p in self.planned]
        lines.append(
            f"  experiments: {c['experiments_created']} created, {c['experiments_existing']} existing"
        )
        lines.append(
            f"  runs: {c['runs_copied']} copied, {c['runs_resumed']} resumed, {c['runs_unchanged']} unchanged, "
            f"{c['runs_skipped']} skipped"
        )
        lines.append(f"  metric points: {c['metric_points']}")
        lines.append(f"  artifacts: {c['artifact_files']} files, {c['artifact_bytes']} bytes "
                     f"({c['artifact_files_present']} already present)")
        lines.append(f"  logged models: {c['logged_models_copied']} copied, {c['logged_models_unchanged']} unchanged")
        lines.append(
            f"  registered models: {c['registered_models_copied']} copied, "
            f"{c['registered_models_unchanged']} unchanged; versions: {c['model_versions_copied']} copied; "
            f"aliases: {c['aliases_copied']}"
        )
        lines.append(f"  CI links: {c['ci_links']}")
        lines.append(f"  conflicts: {len(self.conflicts)}")
        lines += [f"    - {what}" for what in self.conflicts]
        if self.failures:
            lines.append(f"  failed (run the import again to resume): {len(self.failures)}")
            lines += [f"    - {what}" for what in self.failures]
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)
