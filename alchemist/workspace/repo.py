"""`Workspace`: one git repository per project, one commit + annotated tag per version.

Layout of a project directory:

    project/
      .git/                  dulwich repository; branch `main`, tags v1, v2, ...
      .gitignore             ignores .alchemist/
      .alchemist/            private state of other components (SQLite databases), not versioned
      spec.yaml  optimizer/  simulator/  tests/  results/  manifest.json
                             a checkout of the latest version, for people to browse

Integrity: `manifest.json` pins the sha256 of every other stored file; the annotated tag
of a version pins the sha256 of `manifest.json` and the commit; each version's commit has
the previous version's commit as parent. Changing a stored file, the manifest, a tag or the
history therefore shows up in `verify`, short of someone rewriting all of them consistently
(git has no secret to sign with here).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dulwich.index import build_index_from_tree
from dulwich.objects import Blob, Commit, Tag, Tree
from dulwich.repo import Repo
from pydantic import BaseModel, ValidationError

from .diff import VersionDiff, diff_versions
from .manifest import (
    MANIFEST_PATH,
    RESULT_OPTIMIZER,
    RESULT_SIMULATION,
    SPEC_PATH,
    Manifest,
    sha256,
    spec_hash_of,
)

GITIGNORE = ".gitignore"
GITIGNORE_TEXT = "# private state of alchemist components (databases), not versioned\n.alchemist/\n"
STATE_DIR = ".alchemist"
BRANCH = b"refs/heads/main"
TAG_PREFIX = b"refs/tags/"
IDENTITY = b"Alchemist <alchemist@localhost>"
VERSION_RE = re.compile(r"^v([1-9][0-9]*)$")
DIGEST_RE = re.compile(r"^manifest-sha256: ([0-9a-f]{64})$", re.M)


class WorkspaceError(ValueError):
    """Bad input for people: not a project, unknown version, unusable file path."""


class VersionInfo(BaseModel):
    version: str
    commit: str
    created: str = ""
    message: str = ""
    parent: str | None = None
    spec_hash: str = ""
    status: str | None = None  # optimizer status, when a result is stored
    objective: float | None = None

    @property
    def summary(self) -> str:
        """'optimal, objective 120' or '' without an optimizer result."""
        if self.status is None:
            return ""
        if self.objective is None:
            return self.status
        return f"{self.status}, objective {self.objective:g}"


def _version_number(name: str) -> int:
    m = VERSION_RE.match(name)
    return int(m.group(1)) if m else 0


def _check_path(path: str) -> str:
    """Refuse paths git or the checkout could misread: absolute, '..', '.git', state dir."""
    parts = path.split("/")
    if (
        not path
        or path.startswith("/")
        or "\\" in path
        or any(p in ("", ".", "..") for p in parts)
        or parts[0] in (".git", STATE_DIR)
        or ".git" in parts
    ):
        raise WorkspaceError(f"cannot store file {path!r}: use a relative path inside the project")
    return path


class Workspace:
    """A project directory holding its versions. Open with `Workspace.open(path)`."""

    def __init__(self, root: Path, repo: Repo) -> None:
        self.root = root
        self.repo = repo

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(cls, root: Path | str, create: bool = True) -> Workspace:
        """Open the project at `root`; create it (directory and repository) when allowed."""
        root = Path(root).expanduser().resolve()
        if (root / ".git").exists():
            try:
                repo = Repo(str(root))
            except Exception as err:  # noqa: BLE001 - any unreadable .git is the same problem
                raise WorkspaceError(f"{root}: unreadable git repository ({err})") from None
            if not cls._is_project(repo):
                repo.close()
                raise WorkspaceError(
                    f"{root} is a git repository but not an alchemist project; "
                    "choose another directory for the project"
                )
            ws = cls(root, repo)
        elif not create:
            why = "no such directory" if not root.exists() else "no project repository in it"
            raise WorkspaceError(f"{root} is not an alchemist project ({why})")
        elif root.exists() and not root.is_dir():
            raise WorkspaceError(f"{root} is a file, not a project directory")
        else:
            root.mkdir(parents=True, exist_ok=True)
            repo = Repo.init(str(root))
            repo.refs.set_symbolic_ref(b"HEAD", BRANCH)
            config = repo.get_config()
            config.set((b"alchemist",), b"workspace", b"1")
            config.write_to_path()
            ws = cls(root, repo)
            if not (root / GITIGNORE).exists():  # before the first version brings its own
                (root / GITIGNORE).write_text(GITIGNORE_TEXT)
        # other components keep their databases here; a read-only project is still readable
        with contextlib.suppress(OSError):
            (root / STATE_DIR).mkdir(exist_ok=True)
        return ws

    @staticmethod
    def _is_project(repo: Repo) -> bool:
        """Ours when marked at creation, or (a clone) when it carries version tags."""
        with contextlib.suppress(KeyError):
            if repo.get_config().get((b"alchemist",), b"workspace") == b"1":
                return True
        refs = repo.refs.as_dict(TAG_PREFIX)
        return any(VERSION_RE.match(name.decode()) for name in refs) or not refs_any(repo)

    def close(self) -> None:
        self.repo.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        """Serialize writers (service threads, CLI processes) so version numbers stay unique."""
        (self.root / STATE_DIR).mkdir(exist_ok=True)
        with open(self.root / STATE_DIR / "workspace.lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    # ------------------------------------------------------------------ reading

    def _version_names(self) -> list[str]:
        refs = self.repo.refs.as_dict(TAG_PREFIX)
        names = [n.decode() for n in refs if VERSION_RE.match(n.decode())]
        return sorted(names, key=_version_number)

    def resolve(self, version: str) -> str:
        """'v3', '3' or 'latest' -> 'v3'; WorkspaceError naming the known versions otherwise."""
        names = self._version_names()
        text = version.strip()
        if text.lower() in ("latest", "head") and names:
            return names[-1]
        if text.isdigit():
            text = f"v{int(text)}"
        if text in names:
            return text
        known = ", ".join(names) if names else "none yet"
        raise WorkspaceError(f"unknown version {version!r} in {self.root} (versions: {known})")

    def latest(self) -> str | None:
        names = self._version_names()
        return names[-1] if names else None

    def _tag(self, version: str) -> tuple[Tag | None, Commit]:
        """The tag object (None for a lightweight tag) and the commit it points at."""
        try:
            obj = self.repo[self.repo.refs[TAG_PREFIX + version.encode()]]
            tag = obj if isinstance(obj, Tag) else None
            while isinstance(obj, Tag):
                obj = self.repo[obj.object[1]]
        except KeyError:
            raise WorkspaceError(f"tag {version} points at a missing object") from None
        if not isinstance(obj, Commit):
            raise WorkspaceError(f"tag {version} does not point at a commit")
        return tag, obj

    def commit_id(self, version: str) -> str:
        return self._tag(self.resolve(version))[1].id.decode()

    def _tree_files(self, tree_id: bytes, prefix: str = "") -> dict[str, bytes]:
        out: dict[str, bytes] = {}
        tree = self.repo[tree_id]
        assert isinstance(tree, Tree)
        for entry in tree.iteritems():
            name = prefix + entry.path.decode()
            obj = self.repo[entry.sha]
            if isinstance(obj, Tree):
                out.update(self._tree_files(obj.id, name + "/"))
            elif isinstance(obj, Blob):
                out[name] = obj.as_raw_string()
        return out

    def files(self, version: str) -> dict[str, bytes]:
        """Every file stored in `version` (including manifest.json), path -> bytes."""
        _, commit = self._tag(self.resolve(version))
        return self._tree_files(commit.tree)

    def manifest(self, version: str) -> Manifest:
        name = self.resolve(version)
        _, commit = self._tag(name)
        raw = self._tree_files(commit.tree).get(MANIFEST_PATH)
        if raw is None:
            raise WorkspaceError(f"{name} has no {MANIFEST_PATH}")
        try:
            return Manifest.from_bytes(raw)
        except ValidationError as err:
            raise WorkspaceError(f"{name}: unreadable {MANIFEST_PATH}: {err}") from None

    def versions(self) -> list[VersionInfo]:
        """Every version, oldest first, with what a listing needs."""
        out = []
        for name in self._version_names():
            try:
                _, commit = self._tag(name)
            except WorkspaceError as err:  # listed anyway: `verify` says what is wrong
                out.append(VersionInfo(version=name, commit="", message=str(err)))
                continue
            info = VersionInfo(version=name, commit=commit.id.decode())
            try:
                m = self.manifest(name)
            except WorkspaceError:
                info.message = commit.message.decode(errors="replace").strip()
                out.append(info)
                continue
            opt = m.results.get("optimizer") or {}
            objective = opt.get("objective")
            info.created, info.message, info.parent = m.created, m.message, m.parent
            info.spec_hash = m.spec_hash
            info.status = opt.get("status")
            info.objective = float(objective) if isinstance(objective, int | float) else None
            out.append(info)
        return out

    # ------------------------------------------------------------------ writing

    def record(
        self,
        files: dict[str, str | bytes],
        manifest: Manifest,
        message: str,
    ) -> str:
        """Store `files` + the completed manifest as the next version; return its name ("vN").

        Fills manifest.version, parent, created (when empty), message, code_hashes and
        spec_hash (when empty, from spec.yaml). A spec_hash that disagrees with spec.yaml is
        refused: the manifest would lie about what the version solves.
        """
        data: dict[str, bytes] = {}
        for path, content in files.items():
            if _check_path(path) == MANIFEST_PATH:
                continue  # written from `manifest` below
            data[path] = content.encode() if isinstance(content, str) else bytes(content)
        data.setdefault(GITIGNORE, GITIGNORE_TEXT.encode())
        for path in data:  # a file and a directory of the same name cannot both exist
            parts = path.split("/")
            for i in range(1, len(parts)):
                if "/".join(parts[:i]) in data:
                    raise WorkspaceError(f"cannot store both {'/'.join(parts[:i])!r} and {path!r}")

        spec_hash = spec_hash_of(data.get(SPEC_PATH))
        if manifest.spec_hash and spec_hash and manifest.spec_hash != spec_hash:
            raise WorkspaceError(
                f"manifest spec_hash {manifest.spec_hash[:12]} does not match spec.yaml "
                f"({spec_hash[:12]})"
            )

        with self._lock():
            parent = self.latest()
            version = f"v{_version_number(parent) + 1 if parent else 1}"
            now = dt.datetime.now(dt.UTC)
            m = manifest.model_copy(deep=True)
            m.version, m.parent, m.message = version, parent, message
            m.created = m.created or now.isoformat(timespec="seconds")
            m.spec_hash = m.spec_hash or spec_hash or ""
            m.code_hashes = {p: sha256(b) for p, b in sorted(data.items())}
            raw_manifest = m.to_bytes()
            tree_id = self._write_tree({**data, MANIFEST_PATH: raw_manifest})

            ts = int(now.timestamp())
            commit = Commit()
            commit.tree = tree_id
            commit.parents = [self._tag(parent)[1].id] if parent else []
            commit.author = commit.committer = IDENTITY
            commit.author_time = commit.commit_time = ts
            commit.author_timezone = commit.commit_timezone = 0
            commit.encoding = b"UTF-8"
            commit.message = f"{version}: {message}\n".encode()
            self.repo.object_store.add_object(commit)

            tag = Tag()
            tag.tagger = IDENTITY
            tag.name = version.encode()
            tag.object = (Commit, commit.id)
            tag.tag_time = ts
            tag.tag_timezone = 0
            tag.message = (
                f"alchemist {version}: {message}\n\nmanifest-sha256: {sha256(raw_manifest)}\n"
            ).encode()
            self.repo.object_store.add_object(tag)
            if not self.repo.refs.add_if_new(TAG_PREFIX + version.encode(), tag.id):
                raise WorkspaceError(f"tag {version} appeared while recording; try again")
            old_head = self._head()
            self.repo.refs[BRANCH] = commit.id
            self._checkout(old_head, tree_id)
        return version

    def _write_tree(self, files: dict[str, bytes]) -> bytes:
        tree = Tree()
        subdirs: dict[str, dict[str, bytes]] = {}
        for path, content in files.items():
            head, _, rest = path.partition("/")
            if rest:
                subdirs.setdefault(head, {})[rest] = content
            else:
                blob = Blob.from_string(content)
                self.repo.object_store.add_object(blob)
                tree.add(head.encode(), 0o100644, blob.id)
        for name, sub in subdirs.items():
            tree.add(name.encode(), 0o040000, self._write_tree(sub))
        self.repo.object_store.add_object(tree)
        return tree.id

    def _head(self) -> Commit | None:
        try:
            obj = self.repo[self.repo.refs[b"HEAD"]]
        except KeyError:
            return None
        return obj if isinstance(obj, Commit) else None

    def _checkout(self, old: Commit | None, tree_id: bytes) -> None:
        """Make the working tree a copy of `tree_id`: drop the previous version's files first."""
        new_paths = set(self._tree_files(tree_id))
        if old is not None:
            for path in set(self._tree_files(old.tree)) - new_paths:
                target = self.root / path
                if target.is_file() or target.is_symlink():
                    target.unlink()
                parent = target.parent
                while parent != self.root and parent.exists() and not any(parent.iterdir()):
                    parent.rmdir()
                    parent = parent.parent
        for path in new_paths:  # a directory where a file now goes (or vice versa) would block
            target = self.root / path
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
        build_index_from_tree(
            str(self.root), self.repo.index_path(), self.repo.object_store, tree_id
        )

    # ------------------------------------------------------------------ integrity

    def verify(self, version: str, worktree: bool = True) -> list[str]:
        """Problems with `version`, one line each; empty when intact.

        Checks the stored files against manifest.code_hashes, the manifest against its tag,
        spec.yaml against spec_hash, the stored results against the manifest's, the history
        (the parent version's commit is this commit's parent) and, when `version` is the
        latest and `worktree` is true, the project's checkout and HEAD.
        """
        name = self.resolve(version)
        try:
            tag, commit = self._tag(name)
        except WorkspaceError as err:
            return [f"{name}: {err}"]
        problems: list[str] = []
        stored = self._tree_files(commit.tree)
        raw = stored.get(MANIFEST_PATH)
        if raw is None:
            return [f"{name}: {MANIFEST_PATH} is missing from the stored version"]
        try:
            m = Manifest.from_bytes(raw)
        except ValidationError:
            return [f"{name}: {MANIFEST_PATH} is not a valid manifest"]

        digest = DIGEST_RE.search(tag.message.decode(errors="replace")) if tag else None
        if tag is None:
            problems.append(f"{name}: the tag is not the annotated tag alchemist wrote")
        elif digest is None:
            problems.append(f"{name}: the tag carries no manifest digest")
        elif digest.group(1) != sha256(raw):
            problems.append(f"{name}: {MANIFEST_PATH} was modified (digest differs from the tag)")
        if m.version != name:
            problems.append(f"{name}: the manifest belongs to version {m.version or '?'}")

        for path, expected in sorted(m.code_hashes.items()):
            if path not in stored:
                problems.append(f"{name}: {path} is missing")
            elif sha256(stored[path]) != expected:
                problems.append(f"{name}: {path} was modified (sha256 differs from the manifest)")
        for path in sorted(set(stored) - set(m.code_hashes) - {MANIFEST_PATH}):
            problems.append(f"{name}: {path} is not listed in the manifest")

        spec_hash = spec_hash_of(stored.get(SPEC_PATH))
        if SPEC_PATH in stored and spec_hash != m.spec_hash:
            problems.append(f"{name}: spec.yaml does not hash to the manifest's spec_hash")
        problems += [f"{name}: {p}" for p in _results_disagree(stored, m)]

        problems += self._verify_history(name, commit, m.parent)
        if worktree and name == self.latest():
            problems += self._verify_worktree(name, commit, m, raw)
        return problems

    def _verify_history(self, name: str, commit: Commit, parent: str | None) -> list[str]:
        """Each version's commit follows its parent's: rewriting an old version shows here."""
        if parent is None:
            return [] if not commit.parents else [f"{name}: its commit has unexpected parents"]
        try:
            expected = [self._tag(parent)[1].id] if parent in self._version_names() else None
        except WorkspaceError:
            expected = None
        if expected is None:
            return [f"{name}: its parent version {parent} is missing"]
        if list(commit.parents) != expected:
            return [f"{name}: its commit does not follow {parent} in history"]
        return []

    def _verify_worktree(self, name: str, commit: Commit, m: Manifest, raw: bytes) -> list[str]:
        problems = []
        head = self._head()
        if head is None or head.id != commit.id:
            where = head.id.decode()[:12] if head else "nothing"
            problems.append(
                f"working tree: HEAD is at {where}, not {name} "
                "(something was committed outside alchemist)"
            )
        expected = {**m.code_hashes, MANIFEST_PATH: sha256(raw)}
        for path, digest in sorted(expected.items()):
            target = self.root / path
            if not target.is_file():
                problems.append(f"working tree: {path} is missing")
            elif sha256(target.read_bytes()) != digest:
                problems.append(f"working tree: {path} differs from {name}")
        return problems

    def diff(self, a: str, b: str) -> VersionDiff:
        """Spec, code and result differences from version `a` to version `b`."""
        va, vb = self.resolve(a), self.resolve(b)
        return diff_versions(va, vb, self.files(va), self.files(vb))


def refs_any(repo: Repo) -> bool:
    """True when the repository has any commit or reference (it is somebody's repository)."""
    return any(name != b"HEAD" for name in repo.refs.allkeys())


def _results_disagree(stored: dict[str, bytes], m: Manifest) -> list[str]:
    """The manifest's result summary must describe the stored result files."""
    import json

    out = []
    opt = m.results.get("optimizer")
    if RESULT_OPTIMIZER in stored and isinstance(opt, dict):
        try:
            doc: dict[str, Any] = json.loads(stored[RESULT_OPTIMIZER])
        except ValueError:
            return [f"{RESULT_OPTIMIZER} is not JSON"]
        for key in ("status", "objective", "bound"):
            if key in opt and doc.get(key) != opt[key]:
                out.append(f"{RESULT_OPTIMIZER} {key} {doc.get(key)!r} != manifest's {opt[key]!r}")
    sim = m.results.get("simulation")
    if RESULT_SIMULATION in stored and isinstance(sim, dict) and "aggregate" in sim:
        try:
            doc = json.loads(stored[RESULT_SIMULATION])
        except ValueError:
            return [*out, f"{RESULT_SIMULATION} is not JSON"]
        if doc.get("aggregate") != sim["aggregate"]:
            out.append(f"{RESULT_SIMULATION} aggregate differs from the manifest's")
    return out
