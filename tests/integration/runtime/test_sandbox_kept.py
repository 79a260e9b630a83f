"""The TUI's sandbox keeps its world and database between runs; a reset starts afresh."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from groups_tui.cli import main
from groups_tui.config import Settings
from groups_tui.runtime import SandboxStack, open_sandbox_runtime, reset_sandbox, sandbox_world_path

SEED = 11


def _open(settings: Settings):  # type: ignore[no-untyped-def]
    return open_sandbox_runtime(settings, demo=False, groups=3, seed=SEED, simulate=False)


async def _members(runtime: SandboxStack, group_id: str) -> set[str]:
    return {m.wa_id or m.key for m in await runtime.store.groups.members(group_id)}


async def test_quitting_and_starting_again_keeps_the_world_and_the_database(
    tmp_path: Path,
) -> None:
    settings = Settings(db_path=tmp_path / "groups.db")
    # GIVEN a first run, from the seed, where the operator removes a member
    async with _open(settings) as runtime:
        await runtime.settle()
        assert not runtime.kept
        group = runtime.world.groups.active()[0]
        spammer = sorted(group.members)[0]
        await runtime.service.admin.remove_participants(group.id, [spammer])
        await runtime.settle(5)
        assert spammer not in await _members(runtime, group.id)
        audit = [e.action for e in await runtime.store.audit.entries(limit=50)]
        assert audit == ["participants.remove"]
    assert sandbox_world_path(settings).exists()

    # WHEN the TUI is started again
    async with _open(settings) as runtime:
        await runtime.settle()
        # THEN the world and the database are those of the last run
        assert runtime.kept
        assert runtime.world.groups.active_count == 3, "not populated a second time"
        assert spammer not in runtime.world.groups.get(group.id).members
        assert spammer not in await _members(runtime, group.id)
        audit = [e.action for e in await runtime.store.audit.entries(limit=50)]
        assert audit == ["participants.remove"]
        # AND the kept world still works through the API
        await runtime.service.admin.remove_participants(group.id, [sorted(group.members)[-1]])
        await runtime.settle(5)

    # WHEN the operator resets the sandbox (groups-tui sandbox --reset)
    env = {"GROUPS_TUI_DB": str(settings.db_path), "GROUPS_TUI_CONFIG": str(tmp_path / "no")}
    result = CliRunner().invoke(main, ["sandbox", "--reset"], env=env)
    assert result.exit_code == 0, result.output
    assert "afresh" in result.stdout
    assert not sandbox_world_path(settings).exists() and not settings.sandbox_db_path.exists()

    # THEN the next run starts from the seed: the removed member is back, the audit empty
    async with _open(settings) as runtime:
        await runtime.settle()
        assert not runtime.kept
        assert spammer in await _members(runtime, group.id)
        assert await runtime.store.audit.entries(limit=50) == []


async def test_an_unreadable_kept_world_starts_afresh(tmp_path: Path) -> None:
    settings = Settings(db_path=tmp_path / "groups.db")
    sandbox_world_path(settings).write_bytes(b"not a world")
    settings.sandbox_db_path.write_bytes(b"not a database either")
    async with _open(settings) as runtime:
        await runtime.settle()
        assert not runtime.kept
        assert runtime.world.groups.active_count == 3
    assert reset_sandbox(settings), "the files of the run are removed"


async def test_a_lively_world_is_kept_too(tmp_path: Path) -> None:
    # GIVEN the simulated people running (they schedule replies of their own)
    settings = Settings(db_path=tmp_path / "groups.db")
    async with open_sandbox_runtime(settings, demo=True, seed=SEED, simulate=True) as runtime:
        for _ in range(30):
            runtime.world.advance(120)  # an hour of chatter
        await runtime.settle()
        groups = runtime.world.groups.active_count
    # THEN the world is kept, and comes back with its groups
    assert sandbox_world_path(settings).exists()
    async with open_sandbox_runtime(settings, demo=True, seed=SEED, simulate=False) as runtime:
        assert runtime.kept and runtime.world.groups.active_count == groups
