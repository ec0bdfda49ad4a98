"""Run the report: execute every notebook of a profile with papermill, then build the Jupyter Book.

A profile (``profiles/NAME.yaml``) holds ``common`` parameters (given to every notebook) and, under
``notebooks``, each notebook's own parameters, in execution order; ``workspace: OTHER`` runs it in profile OTHER's
workspace (``runs/OTHER``: the sweep builds on the demo's). Executed copies land in
``book/executed/`` (a build folder; the committed notebooks are never written; a copy is renamed there when its
notebook has run, so a killed run leaves no half-run page), and the book shows them as they are
(``execute_notebooks: off``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import yaml

from photosynth.atomic import atomic_path
from photosynth.report.pdf import toc_files
from photosynth.runtime import Workspace, configure, find_project

EXECUTED_DIR = Path("book") / "executed"
#: Workspace stage holding one log per executed notebook.
LOGS_STAGE = "logs"


class PipelineError(RuntimeError):
    """A profile, notebook or book build problem; the message says what and where."""


class NotebookFailed(PipelineError):
    """A notebook cell raised: names the notebook, the cell and the error."""

    def __init__(self, notebook: str, cell: int | None, error: str, source: str, output: Path):
        self.notebook, self.cell, self.error, self.output = notebook, cell, error, output
        where = f"cell {cell}" if cell is not None else "an unknown cell"
        super().__init__(f"notebook {notebook} failed in {where} (`{_first_line(source)}`): {error} "
                         f"(cells counted from 0 in the executed copy: {output})")


@dataclass
class Profile:
    """Parameters of one run of the report."""

    name: str
    common: dict[str, Any] = field(default_factory=dict)
    notebooks: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: The profile whose workspace this one runs in (``runs/<workspace>``); empty: its own.
    workspace: str = ""

    @property
    def workspace_name(self) -> str:
        """The folder name of this profile's workspace under the runs folder."""
        return self.workspace or self.name

    def parameters(self, notebook: str, workspace: Workspace, declared: Collection[str] | None = None) -> dict[str, Any]:
        """What papermill injects into ``notebook``: profile, workspace, common, then its own values. With
        ``declared`` (the notebook's parameter names), only the common values it declares."""
        common = {k: v for k, v in self.common.items() if declared is None or k in declared}
        return {"profile": self.name, "workspace": str(workspace.root), **common, **self.notebooks[notebook]}


def declared_parameters(notebook: str | Path) -> set[str]:
    """The parameter names of ``notebook``'s ``parameters`` cell."""
    import papermill

    return set(papermill.inspect_notebook(str(notebook)))


def check_common(profile: Profile, declared: Mapping[str, Collection[str]]) -> None:
    """``PipelineError`` for a common value that none of the profile's notebooks declares (a typo, usually)."""
    unused = sorted(k for k in profile.common if not any(k in names for names in declared.values()))
    if unused:
        raise PipelineError(f"profile {profile.name!r}: common value(s) {', '.join(unused)} are parameters of none of "
                            f"its notebooks ({', '.join(declared)})")


def project_root(start: str | Path | None = None) -> Path:
    """The folder holding ``_config.yml`` and ``profiles/``: ``start`` or the cwd, searching upward."""
    here = Path(start or Path.cwd()).resolve()
    found = find_project(here)
    if found is not None:
        return found
    raise PipelineError(f"no photosynth project (a folder with _config.yml and profiles/) at or above {here}")


def load_profile(name: str, root: str | Path, overrides: Iterable[str] = ()) -> Profile:
    """Read ``profiles/<name>.yaml`` (or a path to a YAML file) and apply ``--set`` overrides.

    A profile with ``extends: BASE`` starts from profile BASE: its ``common`` and each notebook's parameters
    are BASE's updated by its own (notebooks keep BASE's order); ``workspace: OTHER`` (its own, else BASE's) names
    the profile whose workspace it runs in.
    """
    path, data = _read_profile(name, root)
    notebooks = {str(k): dict(v or {}) for k, v in data["notebooks"].items()}
    common = dict(data.get("common") or {})
    workspace = data.get("workspace")
    chain = [path]
    while data.get("extends"):
        base, data = _read_profile(str(data["extends"]), root)
        if base in chain:
            raise PipelineError(f"{chain[0]}: profiles extend each other in a loop ({' -> '.join(map(str, chain))})")
        chain.append(base)
        unknown = sorted(set(notebooks) - set(data["notebooks"]))
        if unknown:
            raise PipelineError(f"{chain[-2]}: notebooks {unknown} are not in the profile it extends ({base})")
        notebooks = {str(k): {**dict(v or {}), **notebooks.get(str(k), {})} for k, v in data["notebooks"].items()}
        common = {**dict(data.get("common") or {}), **common}
        workspace = data.get("workspace") if workspace is None else workspace
    if workspace is not None and (not isinstance(workspace, str) or not workspace or Path(workspace).name != workspace):
        raise PipelineError(f"{chain[0]}: 'workspace:' names another profile's workspace (a plain name such as demo), "
                            f"got {workspace!r}")
    profile = Profile(name=path.stem, common=common, notebooks=notebooks, workspace=workspace or "")
    for item in overrides:
        apply_override(profile, item)
    return profile


def _read_profile(name: str, root: str | Path) -> tuple[Path, dict[str, Any]]:
    """The path and content of one profile file, checked for its shape."""
    path = Path(name) if name.endswith((".yaml", ".yml")) else Path(root) / "profiles" / f"{name}.yaml"
    if not path.is_file():
        available = sorted(p.stem for p in (Path(root) / "profiles").glob("*.yaml"))
        raise PipelineError(f"profile {name!r} not found at {path} (available: {', '.join(available)})")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise PipelineError(f"{path}: not valid YAML ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("notebooks"), dict) or not data["notebooks"]:
        raise PipelineError(f"{path}: expected a mapping with a non-empty 'notebooks:' mapping")
    return path.resolve(), data


def apply_override(profile: Profile, item: str) -> None:
    """Apply one ``notebook.param=value`` (or ``common.param=value``); the value is parsed as YAML.

    ``notebook.param.key=value`` sets one key of a mapping parameter (e.g. ``common.slurm.partition=gpu``).
    """
    key, sep, raw = item.partition("=")
    target, dot, param = key.partition(".")
    if not sep or not dot or not param:
        raise PipelineError(f"--set expects notebook.param=value, got {item!r}")
    value = yaml.safe_load(raw) if raw else ""
    if target == "common":
        node = profile.common
    elif target in profile.notebooks:
        node = profile.notebooks[target]
    else:
        raise PipelineError(f"--set {item!r}: no notebook {target!r} in profile {profile.name!r} "
                            f"(notebooks: {', '.join(profile.notebooks)}; or use common.)")
    *parents, leaf = param.split(".")
    for name in parents:
        node = node.setdefault(name, {})
        if not isinstance(node, dict):
            raise PipelineError(f"--set {item!r}: {name!r} is not a mapping")
    node[leaf] = value


def run_notebooks(profile: Profile, root: str | Path, workspace: Workspace,
                  only: Sequence[str] | None = None, kernel: str | None = None,
                  progress: bool = True) -> list[Path]:
    """Execute the profile's notebooks in order into ``book/executed/``; stop at the first failure.

    Each notebook's own output (prints, tqdm bars, epoch lines), preceded by a line naming each cell as it
    starts, is kept in ``<workspace>/logs/<notebook>.log`` and, with ``progress``, streamed to the terminal
    as it comes. A one-line summary per notebook (status, time, log) ends the run, failed or not.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    root = Path(root)
    names = list(profile.notebooks)
    unknown = sorted(set(only or ()) - set(names))
    if unknown:
        raise PipelineError(f"--only names notebooks not in profile {profile.name!r}: {', '.join(unknown)}")
    sources = {name: root / "notebooks" / f"{name}.ipynb" for name in names}
    absent = [f"{name} ({path} does not exist)" for name, path in sources.items() if not path.is_file()]
    if absent:
        raise PipelineError(f"profile {profile.name!r} lists notebooks that are missing: {', '.join(absent)}")
    declared = {name: declared_parameters(path) for name, path in sources.items()}
    check_common(profile, declared)
    configure(workspace)
    out_dir = root / EXECUTED_DIR
    out_dir.mkdir(parents=True, exist_ok=True)
    selected = [name for name in names if not only or name in only]
    runs = {name: NotebookRun(name, workspace.stage(LOGS_STAGE) / f"{name}.log") for name in selected}
    # Kernels inherit this process's environment: a non-inline MPLBACKEND (Agg in CI and tests) would make
    # every figure a notebook displays or glues show up as its repr instead of an image.
    backend = os.environ.pop("MPLBACKEND", None)
    executed = []
    try:
        for name in selected:
            source = sources[name]
            output = out_dir / f"{name}.ipynb"
            run = runs[name]
            print(f"[photosynth] executing {name} (profile {profile.name}; log {run.log})", file=sys.stderr, flush=True)
            cells = len(json.loads(source.read_text()).get("cells", [])) + 1  # + papermill's injected parameters
            with run.log.open("w") as log, run.timed():
                stdout, stderr = Tee(log, sys.stdout if progress else None), Tee(log, sys.stderr if progress else None)
                failure = None
                # papermill saves the copy after every cell: a killed run leaves it under a hidden name only
                with atomic_path(output) as partial:
                    try:
                        papermill.execute_notebook(
                            str(source), str(partial), parameters=profile.parameters(name, workspace, declared[name]),
                            kernel_name=kernel, cwd=str(root), progress_bar=False, stdout_file=stdout,
                            stderr_file=stderr, on_cell_execute=_announcer(name, cells, stderr),
                        )
                    except PapermillExecutionError as exc:  # the copy is complete: it shows the failing cell
                        failure = NotebookFailed(name, exc.cell_index, f"{exc.ename}: {exc.evalue}", exc.source,
                                                 output)
                if failure is not None:
                    log.write(f"\n[photosynth] {failure}\n")
                    raise failure from None
            executed.append(output)
    finally:
        if backend is not None:
            os.environ["MPLBACKEND"] = backend
        print(summary(list(runs.values())), file=sys.stderr, flush=True)
    return executed


@dataclass
class NotebookRun:
    """How one notebook of a run went: ``status`` is ``not run``, ``running``, ``ok`` or ``failed``."""

    name: str
    log: Path
    status: str = "not run"
    seconds: float = 0.0

    @contextmanager
    def timed(self) -> Iterator[None]:
        """Time the block; ``ok`` when it ends normally, ``failed`` when it raises."""
        start, self.status = time.monotonic(), "running"
        try:
            yield
            self.status = "ok"
        except BaseException:
            self.status = "failed"
            raise
        finally:
            self.seconds = time.monotonic() - start


def summary(runs: Sequence[NotebookRun]) -> str:
    """One line per notebook: name, status, wall time, log file."""
    width = max((len(r.name) for r in runs), default=0)
    lines = ["[photosynth] summary:"]
    for r in runs:
        took = f"{r.seconds:8.1f} s" if r.status != "not run" else " " * 10
        lines.append(f"  {r.name:<{width}}  {r.status:<7}  {took}  log: {r.log}")
    return "\n".join(lines)


class Tee:
    """A write-only text stream copying everything to a log file and, when given, to a terminal stream."""

    def __init__(self, log: IO[str], terminal: IO[str] | None = None):
        self.log, self.terminal = log, terminal

    def write(self, text: str) -> int:
        self.log.write(text)
        self.log.flush()
        if self.terminal is not None:
            self.terminal.write(text)
            self.terminal.flush()
        return len(text)

    def flush(self) -> None:
        self.log.flush()
        if self.terminal is not None:
            self.terminal.flush()


def _announcer(notebook: str, cells: int, stream: Tee) -> Any:
    """nbclient's ``on_cell_execute`` hook: one line naming the cell about to run (index as in the executed copy)."""

    def announce(cell: Any, cell_index: int, **_: Any) -> None:
        stream.write(f"[photosynth] {notebook} cell {cell_index}/{cells - 1}: {_first_line(cell.source)}\n")

    return announce


def _first_line(source: str) -> str:
    """The first line of code in a cell (comments and blank lines skipped), shortened to 80 characters."""
    lines = [line.strip() for line in source.splitlines()]
    code = next((line for line in lines if line and not line.startswith("#")), next((x for x in lines if x), ""))
    return code if len(code) <= 80 else code[:77] + "..."


def toc_notebooks(root: str | Path) -> list[Path]:
    """Executed notebooks the book's ``_toc.yml`` refers to (``book/executed/*``), in reading order."""
    prefix = EXECUTED_DIR.as_posix() + "/"
    return [Path(root) / f"{f}.ipynb" for f in toc_files(root) if f.startswith(prefix)]


def check_executed(root: str | Path, profile: str) -> None:
    """Every notebook the toc shows exists and was executed with ``profile`` (no mixed builds)."""
    problems = []
    for path in toc_notebooks(root):
        if not path.is_file():
            problems.append(f"{path.name}: not executed yet")
            continue
        params = json.loads(path.read_text()).get("metadata", {}).get("papermill", {}).get("parameters", {})
        if params.get("profile") != profile:
            problems.append(f"{path.name}: executed with profile {params.get('profile')!r}")
    if problems:
        raise PipelineError(f"cannot build the book for profile {profile!r}: " + "; ".join(problems)
                            + f" — run `photosynth book --profile {profile}`")


def build_book(root: str | Path, profile: str) -> Path:
    """``jupyter-book build -W --all`` (every page re-read: the study pages paste outputs of the executed
    notebooks, a dependency Sphinx does not track); returns the HTML folder."""
    root = Path(root)
    check_executed(root, profile)
    exe = Path(sys.executable).with_name("jupyter-book")
    command = [str(exe if exe.exists() else shutil.which("jupyter-book") or "jupyter-book"),
               "build", str(root), "-W", "--keep-going", "--all"]  # --all: pages paste notebook outputs
    print(f"[photosynth] {' '.join(command)}", file=sys.stderr, flush=True)
    done = subprocess.run(command, cwd=root)
    if done.returncode != 0:
        raise PipelineError(f"jupyter-book build failed (exit {done.returncode}); see the warnings above")
    return root / "_build" / "html"
