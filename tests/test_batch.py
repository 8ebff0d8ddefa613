"""`slimify batch` on real git repositories: branches, commits, reports, dirty trees, resume."""

import json
import shutil
import subprocess

from slimify.batch import main, run_batch
from tests.fixture_files import FIXTURES

SEED = FIXTURES / "slim" / "seed_name_scope_relu.before.py"
SEED_AFTER = FIXTURES / "slim" / "seed_name_scope_relu.after.py"


def git(repo, *args):
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout.strip()


def make_repo(path, files):
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.email", "test@example.com")
    git(path, "config", "user.name", "Test")
    for name, content in files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(content)
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "initial")
    return path


def test_batch_commits_on_a_branch_and_leaves_the_work_tree_as_it_was(tmp_path):
    repo = make_repo(tmp_path / "a", {"models/vgg.py": SEED.read_text(), "README.md": "hi\n"})
    status = main([str(repo), "--to", "slim", "--commit", "--report", str(tmp_path / "report")])
    assert status == 0
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "main"
    assert (repo / "models/vgg.py").read_text() == SEED.read_text()  # main untouched
    assert git(repo, "show", "slimify/to-slim:models/vgg.py") + "\n" == SEED_AFTER.read_text()
    message = git(repo, "log", "-1", "--format=%B", "slimify/to-slim")
    assert message.startswith("slimify: migrate to slim")
    assert "- models/vgg.py:8-13 conv_block" in message
    summary = json.loads((tmp_path / "report" / "summary.json").read_text())
    assert [r["status"] for r in summary["repos"]] == ["migrated"]
    assert "| migrated | 1 | 1 | 0 |" in (tmp_path / "report" / "summary.md").read_text()


def test_dirty_tree_is_never_touched_and_failures_do_not_stop_the_batch(tmp_path):
    dirty = make_repo(tmp_path / "dirty", {"m.py": SEED.read_text()})
    (dirty / "m.py").write_text(SEED.read_text() + "# work in progress\n")
    not_a_repo = tmp_path / "plain"
    not_a_repo.mkdir()
    clean = make_repo(tmp_path / "clean", {"m.py": SEED.read_text()})
    reports = run_batch([str(dirty), str(not_a_repo), str(clean)], "slim", "mig", True, tmp_path / "r")
    assert [(r.status, r.reason) for r in reports[:2]] == [
        ("skipped", "dirty work tree: commit or stash your changes first"),
        ("failed", "not a git repository"),
    ]
    assert reports[2].status == "migrated"
    assert (dirty / "m.py").read_text().endswith("# work in progress\n")
    assert "mig" not in git(dirty, "branch", "--list", "mig")


def test_dry_run_writes_nothing_and_creates_no_branch(tmp_path):
    repo = make_repo(tmp_path / "a", {"m.py": SEED.read_text()})
    reports = run_batch([str(repo)], "slim", "mig", False, tmp_path / "r")
    assert reports[0].status == "would change"
    assert reports[0].rewrites[0]["family"] == "conv_block"
    assert (repo / "m.py").read_text() == SEED.read_text()
    assert git(repo, "branch", "--list", "mig") == ""


def test_a_stopped_run_resumes_without_redoing_finished_repositories(tmp_path):
    first = make_repo(tmp_path / "first", {"m.py": SEED.read_text()})
    second = make_repo(tmp_path / "second", {"m.py": SEED.read_text()})
    report_dir = tmp_path / "r"
    # The first run was stopped after the first repository.
    (done,) = run_batch([str(first)], "slim", "mig", True, report_dir)
    resumed = run_batch([str(first), str(second)], "slim", "mig", True, report_dir)
    assert resumed[0].status == "migrated" and "resumed" in resumed[0].reason
    assert resumed[0].commit == done.commit
    assert git(first, "rev-list", "--count", "mig") == "2"  # no second commit
    assert resumed[1].status == "migrated"


def test_existing_branch_is_a_failure_not_an_overwrite(tmp_path):
    repo = make_repo(tmp_path / "a", {"m.py": SEED.read_text()})
    git(repo, "branch", "mig")
    (report,) = run_batch([str(repo)], "slim", "mig", True, tmp_path / "r")
    assert report.status == "failed" and "already exists" in report.reason
    assert git(repo, "rev-parse", "mig") == git(repo, "rev-parse", "main")


def test_repository_without_candidates_gets_no_branch(tmp_path):
    repo = make_repo(tmp_path / "a", {"m.py": "print('hello')\n"})
    (report,) = run_batch([str(repo)], "slim", "mig", True, tmp_path / "r")
    assert report.status == "nothing to do"
    assert git(repo, "branch", "--list", "mig") == ""
    shutil.rmtree(repo)


def test_the_cli_runs_batch_as_a_subcommand(tmp_path):
    import sys

    repo = make_repo(tmp_path / "a", {"m.py": SEED.read_text()})
    report = tmp_path / "r"
    run = subprocess.run(
        [sys.executable, "-m", "slimify", "batch", str(repo), "--to", "slim", "--commit", "--report", str(report)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    assert f"{repo}: migrated: 1 rewrite(s) on branch slimify/to-slim" in run.stderr
    assert git(repo, "show", "slimify/to-slim:m.py") + "\n" == SEED_AFTER.read_text()


def test_a_commit_refused_by_the_repositorys_hook_leaves_the_work_tree_clean(tmp_path):
    repo = make_repo(tmp_path / "a", {"m.py": SEED.read_text()})
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho 'no commits today' >&2\nexit 1\n")
    hook.chmod(0o755)
    (report,) = run_batch([str(repo)], "slim", "mig", True, tmp_path / "r")
    assert report.status == "failed" and "no commits today" in report.reason
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "main"
    assert git(repo, "status", "--porcelain") == ""
    assert (repo / "m.py").read_text() == SEED.read_text()
    assert git(repo, "branch", "--list", "mig") == ""


def test_the_repositorys_own_config_is_respected(tmp_path):
    config = '[tool.slimify]\nexclude = ["vendor/*"]\n'
    repo = make_repo(tmp_path / "a", {"pyproject.toml": config, "m.py": SEED.read_text(), "vendor/v.py": SEED.read_text()})
    (report,) = run_batch([str(repo)], "slim", "mig", False, tmp_path / "r")
    assert report.files_rewritten == ["m.py"]


def test_a_report_directory_inside_a_repository_does_not_make_it_dirty(tmp_path):
    repo = make_repo(tmp_path / "a", {"m.py": SEED.read_text()})
    report_dir = repo / ".slimify-batch"
    (first,) = run_batch([str(repo)], "slim", "mig", False, report_dir)
    assert first.status == "would change"
    assert git(repo, "status", "--porcelain") == ""
    (second,) = run_batch([str(repo)], "slim", "mig", True, report_dir)  # not "skipped: dirty work tree"
    assert second.status == "migrated", second.reason
    assert (report_dir / "summary.json").exists()
