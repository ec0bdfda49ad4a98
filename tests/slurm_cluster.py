"""A real one-node Slurm cluster on localhost for the ``slurm``-marked tests (Debian's ``slurm-wlm`` + ``munge``).

Everything lives in temporary folders: a private munge key and socket (``munged`` runs as the ``munge``
user, in the foreground), a minimal ``slurm.conf`` (no cgroups, no accounting daemon, free ports),
``slurmctld -D`` and ``slurmd -D`` as children of this process. :func:`one_node_cluster` yields the path of
``slurm.conf`` once the node is idle, and stops exactly the daemons it started, by PID. Clients (``sbatch``,
``squeue``, submitit) find the cluster through ``SLURM_CONF``. :func:`fake_client` stands in for a client command
that fails (a controller that does not answer), first on ``PATH``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

#: GPUs the node declares (a count only, no devices): enough to start multi-task "GPU" jobs on CPUs.
FAKE_GPU_FILES = ("/dev/null", "/dev/zero")
FAKE_GPUS = len(FAKE_GPU_FILES)
DAEMONS = ("munged", "slurmctld", "slurmd", "sbatch", "sinfo", "squeue", "runuser")


def missing() -> str:
    """Why a cluster cannot start here ('' when it can): missing programs, not root, or no munge user."""
    absent = [name for name in DAEMONS if shutil.which(name) is None]
    if absent:
        return f"not installed: {', '.join(absent)} (apt-get install slurm-wlm munge)"
    if os.geteuid() != 0:
        return "the one-node cluster needs root (slurmd runs jobs as their owner; munged as 'munge')"
    try:
        import pwd

        pwd.getpwnam("munge")
    except KeyError:
        return "no 'munge' user (the munge package creates it)"
    return ""


def fake_client(folder: Path, name: str, *steps: str | None) -> Path:
    """An executable ``folder/name`` standing in for a Slurm client command; returns the file of its calls.

    Call k runs the shell line ``steps[k]`` (e.g. ``exec /usr/bin/squeue "$@"``), or fails as a client does when
    the controller does not answer where the step is ``None``; the last step repeats. Each call appends its
    arguments to ``folder/<name>.calls``, one line a call.
    """
    folder.mkdir(parents=True, exist_ok=True)
    calls, script = folder / f"{name}.calls", folder / name
    calls.write_text("")
    fail = f"echo '{name}: error: Unable to contact slurm controller (connect failure)' >&2; exit 1"
    cases = "".join(f"  {k}) {step or fail};;\n" for k, step in enumerate(steps[:-1], 1))
    script.write_text(f"#!/bin/sh\necho \"$*\" >> '{calls}'\ncase $(wc -l < '{calls}') in\n{cases}"
                      f"  *) {steps[-1] or fail};;\nesac\n")
    script.chmod(0o755)
    return calls


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _node_line() -> str:
    """``slurmd -C``'s description of this machine, renamed to ``localhost`` (no host-name lookup needed)."""
    out = subprocess.run(["slurmd", "-C"], check=True, capture_output=True, text=True).stdout
    line = next(line for line in out.splitlines() if line.startswith("NodeName="))
    fields = [f for f in line.split() if not f.startswith("NodeName=")]
    return " ".join(["NodeName=localhost", "NodeAddr=127.0.0.1", *fields, f"Gres=gpu:{FAKE_GPUS}", "State=UNKNOWN"])


def write_config(root: Path, munge_socket: Path) -> Path:
    """A minimal ``slurm.conf`` for one node on localhost (state, spool, logs and PID files under ``root``)."""
    conf = root / "slurm.conf"
    # GPUs as a countable resource without devices: jobs can ask for several and get one task each
    # (Slurm wants one character device per GPU; any will do)
    (root / "gres.conf").write_text("AutoDetect=off\n" + "".join(f"Name=gpu File={d}\n" for d in FAKE_GPU_FILES))
    conf.write_text("\n".join([
        "ClusterName=photosynth-test",
        "SlurmctldHost=localhost(127.0.0.1)",
        f"SlurmctldPort={_free_port()}",
        f"SlurmdPort={_free_port()}",
        "SlurmUser=root",
        "AuthType=auth/munge",
        "CredType=cred/munge",
        f"AuthInfo=socket={munge_socket}",
        f"StateSaveLocation={root / 'state'}",
        f"SlurmdSpoolDir={root / 'spool'}",
        f"SlurmctldPidFile={root / 'slurmctld.pid'}",
        f"SlurmdPidFile={root / 'slurmd.pid'}",
        f"SlurmctldLogFile={root / 'slurmctld.log'}",
        f"SlurmdLogFile={root / 'slurmd.log'}",
        "ProctrackType=proctrack/linuxproc",
        "TaskPlugin=task/none",
        "JobAcctGatherType=jobacct_gather/none",
        "AccountingStorageType=accounting_storage/none",
        "SelectType=select/cons_tres",
        "SelectTypeParameters=CR_Core",
        "ReturnToService=2",
        "SchedulerType=sched/backfill",
        "MpiDefault=none",
        "GresTypes=gpu",
        "SlurmdTimeout=60",
        "InactiveLimit=0",
        "KillWait=5",
        _node_line(),
        "PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP",
        "",
    ]))
    return conf


def _start_munged(stack: ExitStack) -> Path:
    """``munged`` in the foreground as 'munge' with a fresh key and a private socket; returns the socket.

    Its folder is a fresh one under the system temp folder: munged insists that every folder above its
    socket is searchable by all (pytest's temp folders are private).
    """
    import pwd

    user = pwd.getpwnam("munge")
    home = Path(tempfile.mkdtemp(prefix="photosynth-munge-"))
    stack.callback(shutil.rmtree, home, ignore_errors=True)
    home.chmod(0o755)  # munged: the socket folder must be searchable by all, writable only by munge
    key = home / "munge.key"
    key.write_bytes(os.urandom(128))
    key.chmod(0o400)
    for path in (home, key):
        os.chown(path, user.pw_uid, user.pw_gid)
    sock = home / "munge.socket"
    proc = subprocess.Popen(
        ["runuser", "-u", "munge", "--", "munged", "-F", f"--socket={sock}", f"--key-file={key}",
         f"--pid-file={home / 'munged.pid'}", f"--log-file={home / 'munged.log'}",
         f"--seed-file={home / 'munged.seed'}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    stack.callback(_stop, proc)
    _wait(lambda: sock.exists(), 15, "munged socket", proc, home / "munged.log")
    return sock


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait(ready, seconds: float, what: str, proc: subprocess.Popen | None = None, log: Path | None = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if ready():
            return
        if proc is not None and proc.poll() is not None:
            break
        time.sleep(0.2)
    tail = log.read_text()[-2000:] if log is not None and log.is_file() else ""
    raise RuntimeError(f"{what} not ready after {seconds:.0f} s" + (f"; log {log}:\n{tail}" if tail else ""))


def node_state(conf: Path) -> str:
    """``sinfo``'s state of the node (``idle``, ``alloc``, ``down``…), '' when the controller does not answer."""
    done = subprocess.run(["sinfo", "-h", "-N", "-o", "%T"], capture_output=True, text=True,
                          env={**os.environ, "SLURM_CONF": str(conf)})
    return done.stdout.strip() if done.returncode == 0 else ""


@contextmanager
def one_node_cluster(root: str | Path) -> Iterator[Path]:
    """Start munged, slurmctld and slurmd under ``root``; yield ``slurm.conf`` once the node is idle."""
    root = Path(root)
    for sub in ("state", "spool"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        sock = _start_munged(stack)
        conf = write_config(root, sock)
        env = {**os.environ, "SLURM_CONF": str(conf)}
        ctld = subprocess.Popen(["slurmctld", "-D", "-c", "-f", str(conf)], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        stack.callback(_stop, ctld)
        node = subprocess.Popen(["slurmd", "-D", "-N", "localhost", "-f", str(conf)], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        stack.callback(_stop, node)  # stopped first (callbacks run last-in, first-out)
        _wait(lambda: node_state(conf) == "idle", 60, "the Slurm node", ctld, root / "slurmctld.log")
        yield conf
