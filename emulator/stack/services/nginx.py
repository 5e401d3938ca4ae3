"""nginx in front of the stack: load balancing, static assets, limits and problem+json errors."""

from __future__ import annotations

import grp
import os
import shutil
import signal
import stat
from pathlib import Path

import httpx

from emulator.stack.services.nginx_conf import HEALTH_PATH, NginxPlan, render_nginx_conf
from shared.errors import ConfigError

__all__ = [
    "HEALTH_PATH",
    "NginxPlan",
    "NginxServer",
    "nginx_binary",
    "render_nginx_conf",
    "worker_user",
]


def worker_user() -> str | None:
    """The "user group" for nginx's workers: nobody when running as root, else None."""
    if os.geteuid() != 0:
        return None
    groups = {g.gr_name for g in grp.getgrall()}
    group = next((g for g in ("nogroup", "nobody") if g in groups), None)
    if group is None:
        raise ConfigError("running as root, but neither group nogroup nor nobody exists for nginx")
    return f"nobody {group}"


def nginx_binary() -> str:
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    if not found:
        raise ConfigError("nginx is not installed; run infra/install-system-deps.sh")
    return found


class NginxServer:
    """One nginx master in the foreground, with its config, pid and temp files in `state_dir`."""

    stop_signal = signal.SIGQUIT  # graceful: finish the requests in flight, then exit
    reload_signal = signal.SIGHUP  # re-read nginx.conf (after prepare()) without dropping any

    def __init__(self, state_dir: Path, plan: NginxPlan) -> None:
        self.state_dir = state_dir.resolve()
        self.plan = plan
        self.conf_path = self.state_dir / "nginx.conf"
        self.binary = nginx_binary()

    @property
    def port(self) -> int:
        return self.plan.port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def prepare(self) -> None:
        """Write nginx.conf (only when it changed), after checking that the workers can reach
        the static assets and temp folders."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        if not self.plan.static_dir.is_dir():
            raise ConfigError(f"static assets folder {self.plan.static_dir} does not exist")
        user = worker_user()
        if user is not None:
            _check_reachable(self.state_dir, user)
            _check_reachable(self.plan.static_dir.resolve(), user)
        text = render_nginx_conf(self.plan, user=user)
        if not self.conf_path.exists() or self.conf_path.read_text(encoding="utf-8") != text:
            self.conf_path.write_text(text, encoding="utf-8")

    def argv(self) -> list[str]:
        conf = str(self.conf_path)
        return [self.binary, "-p", f"{self.state_dir}/", "-c", conf, "-e", "stderr"]

    def check_argv(self) -> list[str]:
        """`nginx -t` on the written config: exits non-zero with nginx's message if invalid."""
        return [*self.argv(), "-t", "-q"]

    async def ready(self) -> bool:
        try:
            async with httpx.AsyncClient(timeout=1.0, trust_env=False) as client:
                response = await client.get(f"{self.url}{HEALTH_PATH}")
        except httpx.HTTPError:
            return False
        return response.status_code == 204


def _check_reachable(path: Path, user: str) -> None:
    """Workers run as `user`, so every folder above `path` must let others pass through."""
    for folder in (path, *path.parents):
        if not folder.stat().st_mode & stat.S_IXOTH:
            raise ConfigError(
                f"{folder} cannot be entered by nginx's workers ({user}), so {path} is out of "
                f"their reach; put it under a folder others may enter (chmod o+x {folder})"
            )
