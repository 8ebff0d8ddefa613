"""`slimify batch`: migrate many git repositories in one run.

For each repository: refuse a dirty work tree (never touch uncommitted work), create a branch
from HEAD, rewrite the files there, commit with a message that lists every rewrite, and check
the original branch out again, so the user's work tree looks as it did. Without `--commit` the
run is a dry run: nothing is written, the reports say what would change.

A failing repository is recorded and the run goes on. Progress is kept in `<report dir>/state.json`
after every repository, so a run that was stopped resumes where it left off: a repository
already migrated (its branch still at the recorded commit) is skipped.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

from slimify.config import Config, ConfigError, config_in
from slimify.dialects import DIALECTS
from slimify.discovery import Missing, discover
from slimify.pipeline import FileOutcome, Options, process_all

STATE_FILE = "state.json"


class RepoError(Exception):
    """This repository cannot be migrated; the reason is shown to the user."""


@dataclass
class RepoReport:
    repo: str
    status: str  # "migrated" | "nothing to do" | "would change" | "skipped" | "failed"
    reason: str = ""
    branch: str = ""
    commit: str = ""
    files_rewritten: list[str] = field(default_factory=list)
    rewrites: list[dict] = field(default_factory=list)
    refusals: list[dict] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)


def _git(repo: Path, *args: str, check: bool = True) -> str:
    run = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
    if check and run.returncode != 0:
        raise RepoError(f"git {' '.join(args)} failed: {run.stderr.strip() or run.stdout.strip()}")
    return run.stdout.strip()


def _repo_root(repo: Path) -> Path:
    if not repo.is_dir():
        raise RepoError("not a directory")
    run = subprocess.run(["git", "-C", str(repo), "rev-parse", "--show-toplevel"], capture_output=True, text=True)
    if run.returncode != 0:
        raise RepoError("not a git repository")
    return Path(run.stdout.strip())


def commit_message(target: str, outcomes: list[FileOutcome], root: Path) -> str:
    lines = [f"slimify: migrate to {target}", ""]
    for outcome in outcomes:
        if outcome.changed:
            relative = Path(outcome.path).relative_to(root)
            for rewrite in outcome.result.rewrites:
                lines.append(f"- {relative}:{rewrite.start_line}-{rewrite.end_line} {rewrite.family}")
    refused = sum(1 for o in outcomes for f in o.findings if f.kind == "refused")
    if refused:
        lines += ["", f"{refused} block(s) left unchanged (refused); see the slimify report."]
    return "\n".join(lines) + "\n"


def migrate_repo(repo: Path, target: str, branch: str, commit: bool, verify: bool = False) -> RepoReport:
    report = RepoReport(repo=str(repo), status="failed", branch=branch)
    try:
        root = _repo_root(repo)
        if _git(root, "status", "--porcelain", "--untracked-files=normal"):
            report.status, report.reason = "skipped", "dirty work tree: commit or stash your changes first"
            return report
        original = _git(root, "rev-parse", "--abbrev-ref", "HEAD")
        if original == "HEAD":
            raise RepoError("detached HEAD: check out a branch first")
        if commit and _git(root, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}", check=False):
            raise RepoError(f"branch {branch!r} already exists")
        if commit:
            _git(root, "checkout", "--quiet", "-b", branch)
        try:
            outcomes = _run(root, target, write=commit, verify=verify)
            _fill(report, outcomes, root)
            changed = [o for o in outcomes if o.changed]
            if not changed:
                report.status = "nothing to do"
            elif not commit:
                report.status = "would change"
            else:
                _git(root, "add", "--", *[str(Path(o.path).relative_to(root)) for o in changed])
                _git(root, "commit", "--quiet", "-m", commit_message(target, outcomes, root))
                report.commit = _git(root, "rev-parse", "HEAD")
                report.status = "migrated"
        finally:
            if commit:
                if report.status != "migrated":
                    # The tree was clean when we started: whatever is in it now is ours (files
                    # written before the commit failed) and must not follow the user back.
                    _git(root, "reset", "--quiet", "--hard")
                _git(root, "checkout", "--quiet", original)
                if report.status != "migrated":
                    _git(root, "branch", "--quiet", "-D", branch, check=False)
    except RepoError as error:
        report.status, report.reason = "failed", str(error)
    except Exception as error:  # one broken repository must not stop the batch
        report.status, report.reason = "failed", f"internal error: {type(error).__name__}: {error}"
    return report


def _run(root: Path, target: str, write: bool, verify: bool) -> list[FileOutcome]:
    """Every file of the repository through the tool, as `slimify .` run in it would (its config too)."""
    config = _repo_config(root)
    options = Options(
        target=target,
        write=write,
        select=config.select,
        ignore=config.ignore,
        verify=bool(verify or config.verify),
        unverified=config.unverified or "apply",
    )
    paths = []
    for item in discover([str(root)], config.exclude):
        if isinstance(item, Missing):
            raise RepoError(f"{item.path}: {item.reason}")
        paths.append(item)
    return process_all(paths, options)


def _repo_config(root: Path) -> Config:
    """The repository's own `[tool.slimify]` (its pyproject.toml at the top), or the defaults."""
    try:
        return config_in(root) or Config()
    except ConfigError as error:
        raise RepoError(f"bad configuration: {error}") from None


def _fill(report: RepoReport, outcomes: list[FileOutcome], root: Path) -> None:
    for outcome in outcomes:
        relative = str(Path(outcome.path).relative_to(root))
        if outcome.changed:
            report.files_rewritten.append(relative)
            report.rewrites += [
                {"file": relative, "family": r.family, "start_line": r.start_line, "end_line": r.end_line} for r in outcome.result.rewrites
            ]
        for finding in outcome.findings:
            entry = {"file": relative, "line": finding.line, "family": finding.family, "reason": finding.reason}
            (report.errors if finding.kind == "error" else report.refusals).append(entry)


def run_batch(repos: list[str], target: str, branch: str, commit: bool, report_dir: Path, verify: bool = False) -> list[RepoReport]:
    report_dir.mkdir(parents=True, exist_ok=True)
    # The report directory ignores itself (as .pytest_cache does): made inside a repository,
    # it must not make that work tree dirty, or the next run would skip the repository.
    (report_dir / ".gitignore").write_text("# made by slimify batch\n*\n", encoding="utf-8")
    state_path = report_dir / STATE_FILE
    state = json.loads(state_path.read_text()) if state_path.exists() else {}
    reports = []
    for repo in repos:
        key = str(Path(repo).resolve())
        done = state.get(key)
        if done and done.get("status") == "migrated" and _branch_at(Path(repo), done["branch"], done["commit"]):
            report = RepoReport(**{**done, "reason": "already migrated by an earlier run (resumed)"})
        else:
            report = migrate_repo(Path(repo), target, branch, commit, verify)
        reports.append(report)
        state[key] = asdict(report)
        _write_json(report_dir / f"{_report_name(repo)}.json", asdict(report))
        _write_json(state_path, state)  # after every repository, so a stopped run resumes
    _write_json(report_dir / "summary.json", {"target": target, "branch": branch, "repos": [asdict(r) for r in reports]})
    (report_dir / "summary.md").write_text(summary_markdown(reports, target), encoding="utf-8")
    return reports


def _branch_at(repo: Path, branch: str, commit: str) -> bool:
    try:
        return _git(_repo_root(repo), "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}", check=False) == commit
    except RepoError:
        return False


def _report_name(repo: str) -> str:
    path = Path(repo).resolve()
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:8]  # stable across runs, unlike hash()
    return f"{path.name or 'root'}-{digest}"


def _write_json(path: Path, data) -> None:
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    temporary.replace(path)


def summary_markdown(reports: list[RepoReport], target: str) -> str:
    lines = [
        f"# slimify batch: migrate to {target}",
        "",
        "| repository | status | files | rewrites | refused | note |",
        "|---|---|---|---|---|---|",
    ]
    for r in reports:
        note = r.reason or (f"branch `{r.branch}` at {r.commit[:10]}" if r.commit else "")
        lines.append(f"| {r.repo} | {r.status} | {len(r.files_rewritten)} | {len(r.rewrites)} | {len(r.refusals)} | {note} |")
    return "\n".join(lines) + "\n"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="slimify batch",
        description="Migrate many git repositories: per repository a branch and a commit listing the rewrites.",
    )
    parser.add_argument("repos", nargs="+", metavar="REPO", help="git repositories to migrate")
    parser.add_argument("--to", dest="target", choices=DIALECTS, required=True, help="target dialect")
    parser.add_argument("--branch", help="branch to create in each repository (default: slimify/to-TARGET)")
    parser.add_argument("--commit", action="store_true", help="write and commit; without it nothing is written (dry run)")
    parser.add_argument("--verify", action="store_true", help="prove every rewrite by running it (as slimify --verify)")
    parser.add_argument(
        "--report", default=".slimify-batch", metavar="DIR", help="where reports and resume state go (keep it outside the repositories)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    branch = args.branch or f"slimify/to-{args.target}"
    reports = run_batch(args.repos, args.target, branch, args.commit, Path(args.report), args.verify)
    for r in reports:
        detail = r.reason or (f"{len(r.rewrites)} rewrite(s) on branch {r.branch}" if r.commit else f"{len(r.rewrites)} rewrite(s)")
        print(f"{r.repo}: {r.status}: {detail}", file=sys.stderr)
    print(f"slimify batch: report in {args.report}/summary.md", file=sys.stderr)
    return 2 if any(r.status == "failed" for r in reports) else 0
