"""The cabin image recipe: a real debootstrap of Debian 12 from the configured mirror, checked.

Slow (minutes: it downloads and unpacks a minimal Debian). It builds the cabina wheel from this
checkout with the system's setuptools, runs ``images/build-rootfs.sh --minimal --no-deps``, and
looks inside: the wheel installed, the units enabled, a read-only root with the data partition,
SSH without passwords; then ``images/make-disk-image.sh --filesystems-only`` makes the root file
system, read back with ``debugfs``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).parents[2]
PACKAGES = ("cabina", "hub", "kiosk", "agent_console", "hardware", "provisioning")

pytestmark = pytest.mark.slow


def run(*command: str | Path, timeout: float = 1200) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(part) for part in command],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, (
        f"{command[0]} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )
    return result


def build_wheel(folder: Path) -> Path:
    """The cabina wheel, built from a copy of this checkout (the checkout stays untouched)."""
    source = folder / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    for package in PACKAGES:
        shutil.copytree(
            REPO / package, source / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    dist = folder / "dist"
    subprocess.run(
        [
            "/usr/bin/python3",
            "-c",
            f"from setuptools import build_meta; build_meta.build_wheel({str(dist)!r})",
        ],
        cwd=source,
        capture_output=True,
        check=True,
        timeout=300,
    )
    [wheel] = dist.glob("cabina-*.whl")
    return wheel


@pytest.fixture(scope="module")
def rootfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A minimal cabin root file system, built once for this module."""
    if os.geteuid() != 0:
        pytest.fail("building the image needs root (debootstrap, chroot)")
    folder = tmp_path_factory.mktemp("image")
    wheel = build_wheel(folder)
    keys = folder / "technicians.pub"
    keys.write_text("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEXAMPLEKEYFORTESTSONLY technician\n")
    root = folder / "rootfs"
    run(
        REPO / "images" / "build-rootfs.sh",
        "--rootfs", root, "--wheel", wheel, "--no-deps", "--minimal", "--authorized-keys", keys,
    )  # fmt: skip
    yield root
    shutil.rmtree(root, ignore_errors=True)


def in_root(root: Path, *command: str) -> str:
    return run("chroot", root, *command, timeout=120).stdout


def test_the_cabina_wheel_is_installed(rootfs: Path) -> None:
    site = rootfs / "opt/cabina/venv/lib/python3.11/site-packages"
    assert (site / "cabina-0.1.0.dist-info").is_dir()
    for package in PACKAGES:
        assert (site / package / "__init__.py").is_file(), package
    assert (site / "hub/migrations/versions/0003_enrolment.py").is_file()
    printed = in_root(
        rootfs,
        "/opt/cabina/venv/bin/python",
        "-c",
        "import cabina.sdnotify as s; print(s.Notifier(None).enabled)",
    )
    assert printed.strip() == "False"
    assert os.readlink(rootfs / "usr/local/bin/cabina") == "/opt/cabina/venv/bin/cabina"


def test_the_units_are_installed_and_enabled(rootfs: Path) -> None:
    system = rootfs / "etc/systemd/system"
    for name in ("cabina-kiosk.service", "cabina-firstboot.service"):
        assert (system / name).read_text() == (REPO / "systemd" / name).read_text()
    assert (system / "graphical.target.wants/cabina-kiosk.service").is_symlink()
    assert (system / "multi-user.target.wants/cabina-firstboot.service").is_symlink()
    assert (system / "multi-user.target.wants/ssh.service").is_symlink()
    assert os.readlink(system / "default.target").endswith("graphical.target")
    user = in_root(rootfs, "getent", "passwd", "cabina-kiosk").strip().split(":")
    assert (user[5], user[6]) == ("/var/lib/cabina/kiosk", "/usr/sbin/nologin")
    groups = in_root(rootfs, "id", "-nG", "cabina-kiosk").split()
    assert {"video", "input", "render", "audio", "dialout", "scanner"} <= set(groups)


def test_the_root_is_read_only_and_the_data_partition_writable(rootfs: Path) -> None:
    mounts = {}
    for line in (rootfs / "etc/fstab").read_text().splitlines():
        fields = line.split()
        if fields and not fields[0].startswith("#"):
            mounts[fields[1]] = (fields[0], fields[2], fields[3].split(","))
    assert mounts["/"][0] == "LABEL=cabina-root" and "ro" in mounts["/"][2]
    assert (
        mounts["/var/lib/cabina"][0] == "LABEL=cabina-data" and "rw" in mounts["/var/lib/cabina"][2]
    )
    assert mounts["/tmp"][1] == "tmpfs"
    assert (rootfs / "var/lib/cabina").is_dir()
    assert (rootfs / "etc/machine-id").read_text() == ""  # each cabin makes its own
    assert "Storage=volatile" in (rootfs / "etc/systemd/journald.conf.d/cabina.conf").read_text()


def test_ssh_accepts_keys_only_and_has_no_shared_host_keys(rootfs: Path) -> None:
    assert not list((rootfs / "etc/ssh").glob("ssh_host_*"))
    (rootfs / "run/sshd").mkdir(parents=True, exist_ok=True)
    in_root(rootfs, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", "/tmp/check-key")
    try:
        effective = in_root(rootfs, "/usr/sbin/sshd", "-T", "-h", "/tmp/check-key").splitlines()
    finally:
        for key in (rootfs / "tmp").glob("check-key*"):
            key.unlink()
    assert "passwordauthentication no" in effective
    assert "kbdinteractiveauthentication no" in effective
    assert "authenticationmethods publickey" in effective
    assert (rootfs / "root/.ssh/authorized_keys").stat().st_mode & 0o777 == 0o600
    shadow = in_root(rootfs, "getent", "shadow", "root").split(":")
    assert shadow[1].startswith("!")  # locked: no password login on the console either


def test_the_root_file_system_image_holds_the_tree(rootfs: Path, tmp_path: Path) -> None:
    out = tmp_path / "cabina.img"
    run(
        REPO / "images" / "make-disk-image.sh",
        "--rootfs",
        rootfs,
        "--out",
        out,
        "--data-size",
        "64",
        "--filesystems-only",
    )
    root = tmp_path / "root.ext4"
    header = run("dumpe2fs", "-h", root).stdout
    assert "Filesystem volume name:   cabina-root" in header
    fstab = run("debugfs", "-R", "cat /etc/fstab", root).stdout
    assert fstab == (rootfs / "etc/fstab").read_text()
    assert "cabina-data" in run("dumpe2fs", "-h", tmp_path / "data.ext4").stdout
