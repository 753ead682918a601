"""Start and stop a real ``tritonserver`` (from the nvidia-pytriton wheel) on 127.0.0.1.

The wheel ships the Triton 2.51 binary, its libraries and the python backend. The python
backend stub loads the first ``libpython3.X.so`` the loader finds and the interpreter named
``python3`` on ``PATH``; we put THIS interpreter's library directory first in
``LD_LIBRARY_PATH`` and its ``bin`` directory first in ``PATH`` so models run inside the
project's virtual environment (onnxruntime, numpy). Every server runs in its own process
group and is killed with it: on ``stop()``, on leaving the context manager, at interpreter
exit, and (Linux) when the starting thread dies (``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Literal

from drctl.rehearsal.errors import TritonNotInstalled, TritonStartError

ControlMode = Literal["none", "explicit", "poll"]
REGION_ENV = "TRT_DR_REGION"
LOOPBACK = "127.0.0.1"
PORT_ATTEMPTS = 3
PORT_TAKEN = "already in use"
ONNXRUNTIME_BACKEND = Path(__file__).with_name("served_model.py")
_RUNNING: set[TritonProcess] = set()
_RUNNING_LOCK = threading.Lock()


@dataclass(frozen=True)
class TritonDist:
    """Where the wheel keeps the binary, the python backend, the stub and the shared libs."""

    binary: Path
    backend_dir: Path
    stub: Path
    caches: Path
    libs: Path


@dataclass(frozen=True)
class Ports:
    """The three loopback ports one server listens on."""

    http: int
    grpc: int
    metrics: int


def find_dist() -> TritonDist:
    """Locate tritonserver inside the installed ``pytriton`` package (no import of pytriton)."""
    import importlib.util

    spec = importlib.util.find_spec("pytriton")
    if spec is None or spec.origin is None:
        raise TritonNotInstalled("pytriton is not installed: pip install -e '.[rehearsal]'")
    root = Path(spec.origin).parent
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    dist = TritonDist(
        binary=root / "tritonserver" / "bin" / "tritonserver",
        backend_dir=root / "tritonserver" / "backends",
        stub=root
        / "tritonserver"
        / "python_backend_stubs"
        / version
        / "triton_python_backend_stub",
        caches=root / "tritonserver" / "caches",
        libs=root.parent / "nvidia_pytriton.libs",
    )
    missing = [p for p in (dist.binary, dist.stub, dist.backend_dir, dist.libs) if not p.exists()]
    if missing:
        raise TritonNotInstalled(f"nvidia-pytriton install is incomplete, missing: {missing}")
    return dist


def free_ports(count: int = 3) -> list[int]:
    """Ports the kernel hands out on 127.0.0.1 right now (held together so they differ)."""
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind((LOOPBACK, 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def is_remote(repository: Path | str) -> bool:
    """A cloud repository URL (``s3://...``) that must reach Triton unchanged."""
    return isinstance(repository, str) and repository.startswith(("s3://", "gs://", "as://"))


def prepare_backends(dist: TritonDist, workdir: Path) -> Path:
    """A backend directory: the python backend, its stub, and the ``onnxruntime`` backend.

    The wheel has no ONNX Runtime backend, so ``onnxruntime/model.py`` installs
    ``served_model.py`` as a Python-based backend: Triton 2.51 runs it for every model whose
    config says ``platform: "onnxruntime_onnx"`` (or ``backend: "onnxruntime"``), so the
    ONNX Runtime twin engine_build writes is served as published, without conversion.
    """
    target = workdir / "backends"
    if not (target / "python" / "triton_python_backend_stub").exists():
        shutil.copytree(dist.backend_dir, target, dirs_exist_ok=True)
        shutil.copy2(dist.stub, target / "python" / "triton_python_backend_stub")
    (target / "onnxruntime").mkdir(exist_ok=True)
    shutil.copy2(ONNXRUNTIME_BACKEND, target / "onnxruntime" / "model.py")
    return target


def server_env(dist: TritonDist, region: str | None, extra: Mapping[str, str]) -> dict[str, str]:
    """Environment that makes the python backend run this interpreter (REFERENCE.md gotcha)."""
    env = dict(os.environ)
    libdir = sysconfig.get_config_var("LIBDIR") or str(Path(sys.base_prefix) / "lib")
    paths = [libdir, str(dist.libs), env.get("LD_LIBRARY_PATH", "")]
    env["LD_LIBRARY_PATH"] = ":".join(p for p in paths if p)
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
    if region is not None:
        env[REGION_ENV] = region
    env.update(extra)
    return env


def _die_with_parent() -> None:
    """Runs in the child before exec: SIGKILL it when the thread that started it exits."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class TritonProcess:
    """One real tritonserver bound to 127.0.0.1; a context manager that always stops it."""

    def __init__(
        self,
        model_repository: Path | str,
        workdir: Path,
        *,
        control_mode: ControlMode = "explicit",
        load_models: Sequence[str] = ("*",),
        poll_secs: int = 1,
        region: str | None = None,
        env: Mapping[str, str] | None = None,
        ready_timeout: float = 60.0,
        strict_readiness: bool = True,
        ports: Ports | None = None,
        config_name: str | None = None,
    ) -> None:
        self.model_repository = (
            model_repository if is_remote(model_repository) else Path(model_repository)
        )
        self.workdir = Path(workdir)
        self.control_mode = control_mode
        self.load_models = tuple(load_models)
        self.poll_secs = poll_secs
        self.region = region
        self.extra_env = dict(env or {})
        self.ready_timeout = ready_timeout
        self.strict_readiness = strict_readiness
        self.shm_prefix = f"trtdr{uuid.uuid4().hex[:10]}"
        self.log_path = self.workdir / "tritonserver.log"
        self.ports: Ports | None = None
        self.fixed_ports = ports
        self.config_name = config_name  # --model-config-name: the canary track's configs/<name>
        self.start_to_ready_s: float | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_offset = 0

    @property
    def http_url(self) -> str:
        """``127.0.0.1:<port>`` as tritonclient.http wants it."""
        return f"{LOOPBACK}:{self._ports().http}"

    @property
    def grpc_url(self) -> str:
        """``127.0.0.1:<port>`` as tritonclient.grpc wants it."""
        return f"{LOOPBACK}:{self._ports().grpc}"

    @property
    def metrics_url(self) -> str:
        """Prometheus metrics endpoint of this server."""
        return f"http://{LOOPBACK}:{self._ports().metrics}/metrics"

    @property
    def pid(self) -> int | None:
        """Process id of tritonserver (also its process-group id) while it runs."""
        return self._proc.pid if self._proc else None

    def _ports(self) -> Ports:
        if self.ports is None:
            raise TritonStartError("tritonserver has not been started")
        return self.ports

    def command(self, dist: TritonDist, ports: Ports) -> list[str]:
        """The tritonserver command line: loopback only, our backends, our shm prefix."""
        cmd = [
            str(dist.binary),
            f"--model-repository={self.model_repository}",
            f"--model-control-mode={self.control_mode}",
            f"--http-address={LOOPBACK}",
            f"--http-port={ports.http}",
            f"--grpc-address={LOOPBACK}",
            f"--grpc-port={ports.grpc}",
            f"--metrics-address={LOOPBACK}",
            f"--metrics-port={ports.metrics}",
            "--allow-gpu-metrics=false",
            f"--backend-directory={prepare_backends(dist, self.workdir)}",
            f"--cache-directory={dist.caches}",
            f"--backend-config=python,shm-region-prefix-name={self.shm_prefix}",
            f"--strict-readiness={str(self.strict_readiness).lower()}",
            "--exit-timeout-secs=1",
            "--log-verbose=0",
        ]
        if self.control_mode == "poll":
            cmd.append(f"--repository-poll-secs={self.poll_secs}")
        if self.control_mode == "explicit":
            cmd += [f"--load-model={name}" for name in self.load_models]
        if self.config_name:
            cmd.append(f"--model-config-name={self.config_name}")
        return cmd

    def start(self) -> TritonProcess:
        """Start the server on fresh ports and block until ``/v2/health/ready`` answers 200.

        A port taken between picking and binding it (another process won the race) is
        retried with new ports, at most ``PORT_ATTEMPTS`` times.
        """
        if self.running():
            return self
        dist = find_dist()
        self.workdir.mkdir(parents=True, exist_ok=True)
        env = server_env(dist, self.region, self.extra_env)
        for attempt in range(1, PORT_ATTEMPTS + 1):
            started = self._launch(dist, env)
            try:
                self._wait_ready(started)
            except TritonStartError as exc:
                self.kill()  # a server that failed to start has nothing to drain
                if PORT_TAKEN in str(exc) and attempt < PORT_ATTEMPTS:
                    continue
                raise
            except BaseException:
                self.kill()
                raise
            break
        self.start_to_ready_s = time.monotonic() - started
        return self

    def _launch(self, dist: TritonDist, env: dict[str, str]) -> float:
        self.ports = self.fixed_ports or Ports(*free_ports(3))
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        started = time.monotonic()
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                self.command(dist, self.ports),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
                preexec_fn=_die_with_parent,  # only ctypes before exec
            )
        with _RUNNING_LOCK:
            _RUNNING.add(self)
        return started

    def _wait_ready(self, started: float) -> None:
        deadline = started + self.ready_timeout
        while time.monotonic() < deadline:
            if not self.running():
                raise TritonStartError(f"tritonserver exited early; log:\n{self.log_tail()}")
            tail = self.log_tail()
            if PORT_TAKEN in tail:  # it would unload its models before exiting: don't wait
                raise TritonStartError(f"tritonserver could not bind its ports; log:\n{tail}")
            if self.ready():
                return
            time.sleep(0.1)
        raise TritonStartError(
            f"tritonserver not ready after {self.ready_timeout:.0f} s; log:\n{self.log_tail()}"
        )

    def ready(self, model: str | None = None) -> bool:
        """True when the server (or one model) answers ready on HTTP."""
        path = f"/v2/models/{model}/ready" if model else "/v2/health/ready"
        try:
            with urllib.request.urlopen(f"http://{self.http_url}{path}", timeout=1.0) as resp:
                return bool(resp.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def running(self) -> bool:
        """True while the tritonserver process has not exited."""
        return self._proc is not None and self._proc.poll() is None

    def log_tail(self, lines: int = 15) -> str:
        """This run's error lines (``E...``: a model that failed to load) then its last lines."""
        if not self.log_path.exists():
            return ""
        with self.log_path.open("rb") as log:
            log.seek(self._log_offset)
            text = log.read().decode(errors="replace").splitlines()
        errors = [line[:600] for line in text if line[:1] == "E" and line[1:5].isdigit()]
        return "\n".join([*errors[-10:], "...", *text[-lines:]])

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the process group, SIGKILL it after ``timeout``; idempotent."""
        proc, self._proc = self._proc, None
        with _RUNNING_LOCK:
            _RUNNING.discard(self)
        if proc is not None:
            _kill_group(proc, timeout)
        for leftover in Path("/dev/shm").glob(f"{self.shm_prefix}*"):
            leftover.unlink(missing_ok=True)

    def kill(self) -> None:
        """SIGKILL the process group at once: a region outage, as abrupt as it gets."""
        self.stop(timeout=0.0)

    def __enter__(self) -> TritonProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _kill_group(proc: subprocess.Popen[bytes], timeout: float) -> None:
    """Terminate a whole process group (tritonserver and its python stubs)."""
    sig = signal.SIGTERM if timeout > 0 else signal.SIGKILL
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    try:
        proc.wait(timeout=timeout if timeout > 0 else 5.0)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5.0)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # stubs that outlived their server
    _wait_group_gone(proc.pid, 5.0)


def _wait_group_gone(pgid: int, timeout: float) -> bool:
    """Wait (bounded) until no member of the group is left, zombies included."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def stop_all() -> None:
    """Stop every server this interpreter started; registered with ``atexit``."""
    with _RUNNING_LOCK:
        running = list(_RUNNING)
    for server in running:
        server.stop(timeout=5.0)


def install_signal_handlers() -> None:
    """Make SIGTERM/SIGHUP raise ``SystemExit`` so context managers stop servers (main thread)."""

    def _exit(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _exit)


atexit.register(stop_all)
