"""agent_py.workspace in CPython: names, diffs, dedup, the cap, and a tracked sandbox over an in-memory file system."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from agent_py.errors import FileTooLarge, WorkspaceError
from agent_py.workspace import (
    MAX_FILE_BYTES,
    CheckpointLog,
    TrackedSandbox,
    Workspace,
    file_changes,
    is_text,
    workspace_path,
)


def test_dropped_names_land_under_workspace_by_base_name() -> None:
    assert workspace_path("data.csv") == "/workspace/data.csv"
    assert workspace_path("C:\\Users\\me\\a b.txt") == "/workspace/a b.txt"
    assert workspace_path("../../etc/passwd") == "/workspace/passwd"
    for bad in ("", "..", "dir/", "a\nb", "x" * 201):
        with pytest.raises(WorkspaceError):
            workspace_path(bad)


def test_put_refuses_a_file_over_the_limit_with_its_sizes() -> None:
    workspace = Workspace()
    with pytest.raises(FileTooLarge) as info:
        workspace.put("big.bin", b"\0" * (MAX_FILE_BYTES + 1))
    assert info.value.to_dict()["limit"] == MAX_FILE_BYTES and info.value.size == MAX_FILE_BYTES + 1
    assert workspace.put("ok.txt", b"hi") == {"path": "/workspace/ok.txt", "size": 2}
    assert workspace.get("/workspace/ok.txt") == b"hi"
    with pytest.raises(WorkspaceError):
        workspace.get("/workspace/missing")


def test_restore_refuses_paths_outside_the_workspace() -> None:
    workspace = Workspace()
    for bad in ("/etc/x", "/workspace/../x", "workspace/x"):
        with pytest.raises(WorkspaceError):
            workspace.restore({bad: b""})
    generation = workspace.generation
    assert workspace.restore({"/workspace/a": b"1"}) == {"files": 1, "bytes": 1}
    assert workspace.generation == generation + 1


def test_changes_give_text_diffs_and_say_binary_otherwise() -> None:
    before = {"/workspace/a.txt": b"one\ntwo\n", "/workspace/b.bin": b"\0\1", "/workspace/gone.txt": b"x\n",
              "/workspace/same.txt": b"s"}
    after = {"/workspace/a.txt": b"one\nTWO\n", "/workspace/b.bin": b"\0\2", "/workspace/new.txt": b"fresh",
             "/workspace/same.txt": b"s"}
    changes = {c["path"]: c for c in file_changes(before, after)}
    assert set(changes) == {"/workspace/a.txt", "/workspace/b.bin", "/workspace/gone.txt", "/workspace/new.txt"}
    assert changes["/workspace/a.txt"]["change"] == "modified"
    assert "-two\n+TWO\n" in changes["/workspace/a.txt"]["diff"]
    assert changes["/workspace/b.bin"] == {"path": "/workspace/b.bin", "change": "modified", "size": 2,
                                           "binary": True, "diff": ""}
    assert changes["/workspace/gone.txt"]["change"] == "deleted" and "-x" in changes["/workspace/gone.txt"]["diff"]
    assert "+fresh\n\\ No newline at end of file" in changes["/workspace/new.txt"]["diff"]
    assert is_text("é".encode()) and not is_text(b"\xff\xfe") and not is_text(b"a\0b")


def test_contents_are_deduplicated_and_only_new_ones_sent() -> None:
    log = CheckpointLog(cap_bytes=1000)
    one = {"/workspace/a": b"A" * 100}
    checkpoint, blobs, dropped = log.add(1, {}, one)
    assert checkpoint is not None and list(blobs.values()) == [b"A" * 100] and not dropped
    two = {**one, "/workspace/copy": b"A" * 100, "/workspace/b": b"B" * 50}
    checkpoint, blobs, dropped = log.add(2, one, two)
    assert list(blobs.values()) == [b"B" * 50]  # the copy has the same sha256: stored once
    assert log.stored_bytes() == 150
    assert checkpoint.files[0] == {"path": "/workspace/a", "size": 100,
                                   "sha256": hashlib.sha256(b"A" * 100).hexdigest()}


def test_the_cap_drops_the_oldest_and_a_checkpoint_alone_over_it_is_not_kept() -> None:
    log = CheckpointLog(cap_bytes=250)
    log.add(1, {}, {"/workspace/a": b"1" * 100})
    log.add(2, {}, {"/workspace/a": b"2" * 100})
    _, _, dropped = log.add(3, {}, {"/workspace/a": b"3" * 100})
    assert dropped == [1] and [c.step for c in log.checkpoints] == [2, 3] and log.stored_bytes() == 200
    checkpoint, blobs, dropped = log.add(4, {}, {"/workspace/big": b"x" * 251})
    assert checkpoint is None and blobs == {} and dropped == [4]
    assert [c.step for c in log.checkpoints] == [2, 3]


class MemoryBox:
    """The sandbox's file calls over a dict; `run` executes a callable standing for the cell."""

    def __init__(self) -> None:
        self.fs: dict[str, bytes] = {}
        self.clock = 0
        self.mtimes: dict[str, int] = {}
        self.reads = 0
        self.name = "memory"

    async def run(self, cell: Any) -> dict[str, Any]:
        cell(self)
        return {"stdout": ""}

    def write(self, path: str, data: bytes) -> None:
        self.clock += 1
        self.fs[path] = data
        self.mtimes[path] = self.clock

    async def put_file(self, path: str, data: bytes) -> dict[str, Any]:
        self.write(path, data)
        return {"path": path, "size": len(data)}

    async def get_file(self, path: str) -> bytes:
        self.reads += 1
        return self.fs[path]

    async def delete_file(self, path: str) -> None:
        self.fs.pop(path, None)

    async def list_files(self) -> list[dict[str, Any]]:
        return [{"path": p, "size": len(d), "mtime": self.mtimes[p]} for p, d in self.fs.items()]


class HashingBox(MemoryBox):
    """As the iframe does: the listing carries each file's sha256, so only changed contents are read."""

    async def hash_files(self) -> list[dict[str, Any]]:
        return [{**e, "sha256": hashlib.sha256(self.fs[e["path"]]).hexdigest()} for e in await self.list_files()]


@pytest.mark.anyio
@pytest.mark.parametrize(("box_class", "reads"), [(MemoryBox, 7), (HashingBox, 2)])
async def test_a_tracked_sandbox_checkpoints_changed_steps_and_catches_up_after_a_restore(box_class: type,
                                                                                          reads: int) -> None:
    workspace = Workspace()
    workspace.put("in.txt", b"input\n")
    events: list[dict[str, Any]] = []
    blobs: dict[str, bytes] = {}
    step = {"n": 0}
    box = box_class()
    tracked = TrackedSandbox(box, workspace, CheckpointLog(), emit=events.append,
                             emit_blobs=lambda run_id, b: blobs.update(b), run_id="r", step=lambda: step["n"])
    await tracked.start()
    assert box.fs == {"/workspace/in.txt": b"input\n"} and tracked.name == "memory"

    async def cell(n: int, body: Any) -> None:
        step["n"] = n
        await tracked.run(body)

    await cell(1, lambda b: b.write("/workspace/out.txt", b"v1\n"))
    await cell(2, lambda b: None)  # nothing changed: no events
    await cell(3, lambda b: b.write("/workspace/out.txt", b"v2\n"))
    await cell(4, lambda b: b.fs.pop("/workspace/in.txt"))
    kinds = [(e["type"], e["step"]) for e in events]
    assert kinds == [("FilesChanged", 1), ("Checkpoint", 1), ("FilesChanged", 3), ("Checkpoint", 3),
                     ("FilesChanged", 4), ("Checkpoint", 4)]
    checkpoints = [e for e in events if e["type"] == "Checkpoint"]
    assert [c["changes"][0]["change"] for c in checkpoints] == ["added", "modified", "deleted"]
    assert "-v1\n+v2\n" in checkpoints[1]["changes"][0]["diff"]
    assert sorted(blobs.values()) == [b"input\n", b"v1\n", b"v2\n"]  # each content once
    # Without hashes every file after every cell (in.txt 3 times, out.txt 4); with them only the two new contents.
    assert box.reads == reads

    # Restore step 1's files: the live sandbox is rewritten before its next cell, which reads them.
    first = {f["path"]: blobs[f["sha256"]] for f in checkpoints[0]["files"]}
    workspace.restore(first)
    seen: dict[str, bytes] = {}
    await cell(5, lambda b: seen.update(b.fs))
    assert seen == {"/workspace/in.txt": b"input\n", "/workspace/out.txt": b"v1\n"}
    assert events[-1]["type"] == "Checkpoint" and events[-1]["step"] == 4  # restoring is not a step's change


@pytest.mark.anyio
async def test_a_file_dropped_during_a_cell_is_kept_and_reaches_the_next_cell() -> None:
    workspace = Workspace()
    events: list[dict[str, Any]] = []
    box = MemoryBox()
    tracked = TrackedSandbox(box, workspace, CheckpointLog(), emit=events.append, emit_blobs=None, run_id="r",
                             step=lambda: 1)
    await tracked.start()

    def cell(b: MemoryBox) -> None:
        b.write("/workspace/made.txt", b"made")
        workspace.put("dropped.txt", b"late")  # the page's put-file arrives while the cell runs

    await tracked.run(cell)
    assert workspace.files == {"/workspace/made.txt": b"made", "/workspace/dropped.txt": b"late"}
    seen: dict[str, bytes] = {}
    await tracked.run(lambda b: seen.update(b.fs))
    assert seen == workspace.files


@pytest.mark.anyio
async def test_a_tracked_sandbox_over_its_cap_says_which_checkpoints_went() -> None:
    events: list[dict[str, Any]] = []
    step = {"n": 0}
    tracked = TrackedSandbox(MemoryBox(), Workspace(), CheckpointLog(cap_bytes=25), emit=events.append,
                             emit_blobs=None, run_id="r", step=lambda: step["n"])
    await tracked.start()
    for n in (1, 2, 3):
        step["n"] = n
        await tracked.run(lambda b, n=n: b.write("/workspace/v.txt", b"version %d\n" % n))
    await tracked.run(lambda b: b.write("/workspace/big", b"x" * 26))
    dropped = [e for e in events if e["type"] == "CheckpointsDropped"]
    assert [(e["step"], e["steps"], e["reason"]) for e in dropped] == [(3, [1], "cap"), (3, [3], "too_large")]
    assert "dropped the oldest (step 1)" in dropped[0]["message"]
    assert [e["step"] for e in events if e["type"] == "Checkpoint"] == [1, 2, 3]


@pytest.mark.anyio
async def test_a_lost_listing_skips_one_checkpoint_but_our_own_bugs_are_raised() -> None:
    class LosingBox(MemoryBox):
        async def list_files(self) -> list[dict[str, Any]]:
            raise RuntimeError("the frame lost the worker")

    workspace = Workspace()
    tracked = TrackedSandbox(MemoryBox(), workspace, CheckpointLog(), emit=lambda e: None, emit_blobs=None,
                             run_id="r", step=lambda: 1)
    await tracked.start()
    tracked._inner = LosingBox()
    assert await tracked.run(lambda b: None) == {"stdout": ""}

    def broken_emit(event: dict[str, Any]) -> None:
        raise ValueError("a bug of ours")

    tracked = TrackedSandbox(MemoryBox(), workspace, CheckpointLog(), emit=broken_emit, emit_blobs=None,
                             run_id="r", step=lambda: 1)
    await tracked.start()
    with pytest.raises(ValueError):
        await tracked.run(lambda b: b.write("/workspace/x", b"1"))
