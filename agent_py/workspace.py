"""The workspace: the sandbox files that outlive a run, and a checkpoint of them after every step that changed them.

    workspace = Workspace()                       # one per agent worker (agent_py.web_runtime.WebRuntime)
    workspace.put("data.csv", data)               # a dropped file -> "/workspace/data.csv", in every new sandbox
    log = CheckpointLog(cap_bytes=50 * 2**20)     # one per run
    box = TrackedSandbox(sandbox, workspace, log, emit=..., emit_blobs=..., run_id=..., step=lambda: n)
    await box.start()                             # the workspace's files go into the new sandbox
    await box.run(code)                           # after the cell: FilesChanged + Checkpoint events when files changed

Changes are found by sha256 of the contents of every file listed after each cell. A checkpoint holds the manifest
({path, size, sha256}), the per-file changes with a unified diff for text (capped) or "binary", and the step that
made it. Contents are deduplicated by sha256; the contents kept by one
run's checkpoints are capped (`cap_bytes`): the oldest checkpoints are dropped, with a CheckpointsDropped event
that says so. The page stores the contents (sent once per sha256) and the events (docs/ARCHITECTURE.md, "Files").
File contents are never logged.
"""

from __future__ import annotations

import difflib
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agent_py.errors import FileTooLarge, WorkspaceError
from agent_py.events import Checkpoint as CheckpointEvent
from agent_py.events import CheckpointsDropped, FilesChanged
from agent_py.log import get_logger

__all__ = [
    "WORKSPACE_DIR", "MAX_FILE_BYTES", "DEFAULT_CHECKPOINT_CAP", "Workspace", "CheckpointLog", "Checkpoint",
    "TrackedSandbox", "workspace_path", "sha256_hex", "file_changes", "is_text",
]

log = get_logger("workspace")

WORKSPACE_DIR = "/workspace"
MAX_FILE_BYTES = 50 * 1024 * 1024  # one file the page puts (the page refuses bigger ones first)
MAX_WORKSPACE_BYTES = 200 * 1024 * 1024  # all files the page puts: the sandbox's file system lives in memory
DEFAULT_CHECKPOINT_CAP = 50 * 1024 * 1024  # distinct contents kept by one run's checkpoints
MAX_DIFF_CHARS = 20_000  # of one file's diff in a checkpoint event
Files = dict[str, bytes]


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def workspace_path(name: str) -> str:
    """The sandbox path of a file the user dropped: its base name under /workspace, or WorkspaceError."""
    if not isinstance(name, str):
        raise WorkspaceError("a file name must be text", name=repr(name))
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not base or base in (".", "..") or len(base) > 200 or any(ord(c) < 32 for c in base):
        raise WorkspaceError(f"{name[:80]!r} is not a usable file name", name=name[:200])
    return f"{WORKSPACE_DIR}/{base}"


def is_text(data: bytes) -> bool:
    if b"\0" in data[:8192]:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _diff(path: str, old: bytes | None, new: bytes | None) -> tuple[bool, str]:
    """(binary, diff text): a unified diff when both sides are text, capped at MAX_DIFF_CHARS."""
    if (old is not None and not is_text(old)) or (new is not None and not is_text(new)):
        return True, ""
    before = (old or b"").decode("utf-8").splitlines(keepends=True)
    after = (new or b"").decode("utf-8").splitlines(keepends=True)
    lines = difflib.unified_diff(before, after, "/dev/null" if old is None else f"a{path}",
                                 "/dev/null" if new is None else f"b{path}")
    text = "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)
    if len(text) > MAX_DIFF_CHARS:
        text = text[:MAX_DIFF_CHARS] + f"\n… diff cut at {MAX_DIFF_CHARS} characters\n"
    return False, text


def file_changes(before: Files, after: Files) -> list[dict[str, Any]]:
    """What went from `before` to `after`, per path (sorted): {path, change: added|modified|deleted, size, binary,
    diff}. A file rewritten with the same contents is no change."""
    changes = []
    for path in sorted(set(before) | set(after)):
        old, new = before.get(path), after.get(path)
        if old is not None and new is not None and (old == new):
            continue
        change = "added" if old is None else "deleted" if new is None else "modified"
        binary, diff = _diff(path, old, new)
        changes.append({"path": path, "change": change, "size": len(new) if new is not None else 0,
                        "binary": binary, "diff": diff})
    return changes


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n} bytes"


def manifest(files: Files, shas: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """[{path, size, sha256}] sorted by path; `shas` (path -> sha256) spares hashing again (slow in Pyodide:
    ~50 ms a MB on a busy machine)."""
    shas = shas or {}
    return [{"path": path, "size": len(data), "sha256": shas.get(path) or sha256_hex(data)}
            for path, data in sorted(files.items())]


@dataclass(slots=True)
class Checkpoint:
    step: int
    files: list[dict[str, Any]]  # manifest: [{path, size, sha256}]
    changes: list[dict[str, Any]]

    def shas(self) -> dict[str, int]:
        return {f["sha256"]: int(f["size"]) for f in self.files}


@dataclass
class CheckpointLog:
    """One run's checkpoints, with contents deduplicated by sha256 and their total size capped."""

    cap_bytes: int = DEFAULT_CHECKPOINT_CAP
    checkpoints: list[Checkpoint] = field(default_factory=list)

    def stored(self) -> dict[str, int]:
        """sha256 -> size of every distinct content the kept checkpoints need."""
        sizes: dict[str, int] = {}
        for checkpoint in self.checkpoints:
            sizes.update(checkpoint.shas())
        return sizes

    def stored_bytes(self) -> int:
        return sum(self.stored().values())

    def add(self, step: int, before: Files, after: Files,
            shas: dict[str, str] | None = None) -> tuple[Checkpoint | None, Files, list[int]]:
        """Record `after` as step's checkpoint. Returns (the checkpoint or None when it alone is over the cap,
        the contents not yet stored {sha256: bytes}, the steps of the checkpoints dropped to stay under the cap)."""
        checkpoint = Checkpoint(step, manifest(after, shas), file_changes(before, after))
        own = checkpoint.shas()
        if sum(own.values()) > self.cap_bytes:
            return None, {}, [step]
        known = self.stored()
        self.checkpoints.append(checkpoint)
        dropped = []
        while self.stored_bytes() > self.cap_bytes:
            dropped.append(self.checkpoints.pop(0).step)
        fresh = {f["sha256"]: after[f["path"]] for f in checkpoint.files}
        return checkpoint, {sha: data for sha, data in fresh.items() if sha not in known}, dropped


class Workspace:
    """The files every new sandbox of this agent worker starts with: what the user dropped, what earlier steps
    wrote, or a checkpoint the user restored. `generation` moves on each restore (a live sandbox is rewritten to
    match), `revision` on each put (a live sandbox gets the new file before its next cell: `uploaded`)."""

    def __init__(self) -> None:
        self.files: Files = {}
        self.shas: dict[str, str] = {}  # path -> sha256 of files[path], kept with it
        self.generation = 0
        self.revision = 0
        self.uploaded: dict[str, int] = {}  # path -> revision of its last put

    def put(self, name: str, data: bytes) -> dict[str, Any]:
        path = workspace_path(name)
        if len(data) > MAX_FILE_BYTES:
            raise FileTooLarge(f"{path} is {len(data)} bytes, over the {MAX_FILE_BYTES}-byte limit for one file",
                               path=path, size=len(data), limit=MAX_FILE_BYTES)
        total = sum(len(v) for p, v in self.files.items() if p != path) + len(data)
        if total > MAX_WORKSPACE_BYTES:
            raise FileTooLarge(f"the workspace would hold {total} bytes, over its {MAX_WORKSPACE_BYTES}-byte limit",
                               path=path, size=total, limit=MAX_WORKSPACE_BYTES)
        self.files[path] = bytes(data)
        self.shas[path] = sha256_hex(self.files[path])
        self.revision += 1
        self.uploaded[path] = self.revision
        log.info("file put", path=path, size=len(data))
        return {"path": path, "size": len(data)}

    def get(self, path: str) -> bytes:
        if path not in self.files:
            raise WorkspaceError(f"no file {path} in the workspace", path=path)
        return self.files[path]

    def restore(self, files: Files) -> dict[str, Any]:
        for path in files:
            if not isinstance(path, str) or not path.startswith(WORKSPACE_DIR + "/") or ".." in path:
                raise WorkspaceError(f"{path!r} is not a path under {WORKSPACE_DIR}/", path=str(path)[:200])
        self.set({path: bytes(data) for path, data in files.items()})
        self.generation += 1
        log.info("workspace restored", files=len(files))
        return {"files": len(files), "bytes": sum(len(v) for v in files.values())}

    def set(self, files: Files, shas: dict[str, str] | None = None) -> None:
        self.files = files
        self.shas = {path: (shas or {}).get(path) or sha256_hex(data) for path, data in files.items()}

    def listing(self) -> list[dict[str, Any]]:
        return [{"path": path, "size": len(data)} for path, data in sorted(self.files.items())]


Emit = Callable[[dict[str, Any]], None]
EmitBlobs = Callable[[str, Files], None]


class TrackedSandbox:
    """A sandbox whose files follow the workspace: seeded on start, caught up after a restore, checkpointed after
    each cell that changed them. Everything else is the wrapped sandbox's."""

    def __init__(self, inner: Any, workspace: Workspace, checkpoints: CheckpointLog, *, emit: Emit,
                 emit_blobs: EmitBlobs | None, run_id: str, step: Callable[[], int]) -> None:
        self._inner = inner
        self._workspace = workspace
        self._log = checkpoints
        self._emit = emit
        self._emit_blobs = emit_blobs
        self._run_id = run_id
        self._step = step
        self._generation = -1
        self._revision = 0  # the workspace's put revision this sandbox has caught up with

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def start(self) -> None:
        await self._sync()

    async def _sync(self) -> None:
        """Make the sandbox's /workspace exactly the workspace's files."""
        wanted = self._workspace.files
        for entry in await self._inner.list_files():
            if entry["path"] not in wanted:
                await self._inner.delete_file(entry["path"])
        for path, data in wanted.items():
            await self._inner.put_file(path, data)
        self._generation = self._workspace.generation
        self._revision = self._workspace.revision

    def _pending_puts(self) -> list[str]:
        return [path for path, rev in self._workspace.uploaded.items()
                if rev > self._revision and path in self._workspace.files]

    async def run(self, code: str) -> Any:
        if self._generation != self._workspace.generation:
            await self._sync()  # a restore happened since the last cell
        elif self._workspace.revision != self._revision:
            for path in self._pending_puts():  # files dropped while the run went on
                await self._inner.put_file(path, self._workspace.files[path])
            self._revision = self._workspace.revision
        result = await self._inner.run(code)
        if self._generation == self._workspace.generation:  # else a restore during the cell wins
            await self._after_cell()
        return result

    async def _read(self) -> tuple[Files, dict[str, str]]:
        """The sandbox's files now, and their sha256. The hashes come from the iframe when it can hash (then only
        changed contents cross to this worker), else every file is read: mtimes in the sandbox have one-second
        resolution, so they cannot tell a same-size rewrite."""
        hash_files = getattr(self._inner, "hash_files", None)
        listing = await (hash_files() if hash_files else self._inner.list_files())
        known = {sha: self._workspace.files[path] for path, sha in self._workspace.shas.items()}
        files: Files = {}
        shas: dict[str, str] = {}
        for entry in listing:
            path, sha = entry["path"], entry.get("sha256")
            data = known.get(sha) if isinstance(sha, str) else None
            files[path] = data if data is not None else await self._inner.get_file(path)
            # The iframe's hash is of the same bytes (no cell runs in between), and it is not model code's to forge.
            shas[path] = sha if isinstance(sha, str) else sha256_hex(files[path])
        return files, shas

    async def _after_cell(self) -> None:
        started = time.perf_counter()
        before, before_shas = self._workspace.files, self._workspace.shas
        try:
            after, shas = await self._read()
        except Exception as err:  # noqa: BLE001 - the sandbox lost a listing: no checkpoint now, the next cell catches up
            log.warn("workspace not checkpointed", error=type(err).__name__, detail=str(err)[:200])
            return
        for path in self._pending_puts():  # dropped during the cell: not in the sandbox before the next one
            after[path], shas[path] = self._workspace.files[path], self._workspace.shas[path]
        if shas == before_shas:
            return
        step = self._step()
        self._workspace.set(after, shas)
        self._workspace.generation += 1
        self._generation = self._workspace.generation
        self._emit(FilesChanged(run_id=self._run_id, step=step, files=self._workspace.listing()).to_dict())
        checkpoint, blobs, dropped = self._log.add(step, before, after, shas)
        if checkpoint is not None:
            if blobs and self._emit_blobs is not None:
                self._emit_blobs(self._run_id, blobs)
            self._emit(CheckpointEvent(run_id=self._run_id, step=step, files=checkpoint.files,
                                       changes=checkpoint.changes, stored_bytes=self._log.stored_bytes(),
                                       cap_bytes=self._log.cap_bytes,
                                       duration_ms=round((time.perf_counter() - started) * 1000, 2)).to_dict())
        if dropped:
            too_large = checkpoint is None
            cap = _size(self._log.cap_bytes)
            message = (f"Step {step}'s files are larger than the {cap} checkpoint cap: no checkpoint kept"
                       if too_large else
                       f"Checkpoint storage is capped at {cap} per run: dropped the oldest "
                       f"(step{'s' if len(dropped) > 1 else ''} {', '.join(map(str, dropped))})")
            self._emit(CheckpointsDropped(run_id=self._run_id, step=step, steps=dropped,
                                          reason="too_large" if too_large else "cap", message=message,
                                          cap_bytes=self._log.cap_bytes).to_dict())
        log.debug("checkpoint", step=step, files=len(after), new_contents=len(blobs), dropped=len(dropped))
