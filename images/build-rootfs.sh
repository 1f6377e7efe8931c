#!/bin/sh
# Build the root file system of a Cabina cabin: Debian 12 (bookworm) with debootstrap, the
# cabina wheel in /opt/cabina/venv, the systemd units enabled, a read-only root with the data
# partition at /var/lib/cabina, and SSH without passwords. Run as root on a Debian host.
#
#   images/build-rootfs.sh --rootfs build/rootfs --wheel dist/cabina-0.1.0-py3-none-any.whl \
#       [--wheelhouse DIR | --no-deps] [--mirror URL] [--minimal] [--authorized-keys FILE]
#
#   --wheelhouse DIR      install cabina's dependencies offline from the wheels in DIR
#                         (pip download/wheel them once, for the cabin's Python 3.11)
#   --no-deps             install the cabina wheel alone (to check the recipe quickly)
#   --mirror URL          the Debian mirror (default: the first one in /etc/apt/sources.list*)
#   --minimal             a small package set, without kernel, graphics or sound (tests)
#   --authorized-keys F   the technicians' SSH public keys, for root (keys only, never passwords)
#
# images/make-disk-image.sh turns the result into a disk image to flash; docs/provisioning.md
# says how a technician flashes it.
set -eu

ROOTFS=""
WHEEL=""
WHEELHOUSE=""
NO_DEPS=0
MIRROR=""
MINIMAL=0
KEYS=""
SUITE=bookworm
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HERE")

die() { echo "build-rootfs: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
    case "$1" in
        --rootfs) ROOTFS=$2; shift 2 ;;
        --wheel) WHEEL=$2; shift 2 ;;
        --wheelhouse) WHEELHOUSE=$2; shift 2 ;;
        --no-deps) NO_DEPS=1; shift ;;
        --mirror) MIRROR=$2; shift 2 ;;
        --minimal) MINIMAL=1; shift ;;
        --authorized-keys) KEYS=$2; shift 2 ;;
        -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "Expected an option from --help, but got '$1'" ;;
    esac
done

[ "$(id -u)" -eq 0 ] || die "Expected to run as root (debootstrap and chroot need it)"
[ -n "$ROOTFS" ] || die "Expected --rootfs DIR"
[ -f "$WHEEL" ] || die "Expected --wheel FILE naming the cabina wheel, but got '$WHEEL'"
if [ "$NO_DEPS" -eq 0 ] && [ ! -d "$WHEELHOUSE" ]; then
    die "Expected --wheelhouse DIR with cabina's dependencies (or --no-deps)"
fi
[ -z "$KEYS" ] || [ -f "$KEYS" ] || die "Expected --authorized-keys to name a file, but got '$KEYS'"
command -v debootstrap >/dev/null || die "Expected debootstrap (apt-get install debootstrap)"

if [ -z "$MIRROR" ]; then
    # The host's own Debian mirror: deb822 "URIs:" lines first, then one-line "deb" entries.
    MIRROR=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null \
        | awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}')
    [ -n "$MIRROR" ] || MIRROR=$(awk '$1 == "deb" && $3 !~ /security/ {print $2; exit}' \
        /etc/apt/sources.list 2>/dev/null || true)
    [ -n "$MIRROR" ] || die "Expected --mirror URL: no Debian mirror in /etc/apt/sources.list*"
fi

# What every cabin runs on; the full set adds the kernel, the compositor, graphics and sound.
PACKAGES="systemd,systemd-sysv,systemd-timesyncd,udev,dbus,ca-certificates,python3,python3-venv"
PACKAGES="$PACKAGES,openssh-server,iproute2,netbase"
if [ "$MINIMAL" -eq 0 ]; then
    PACKAGES="$PACKAGES,linux-image-amd64,initramfs-tools,grub-efi-amd64-bin,systemd-resolved"
    PACKAGES="$PACKAGES,cage,libgl1-mesa-dri,libegl1,libgles2,libsdl2-2.0-0,libmtdev1"
    PACKAGES="$PACKAGES,pipewire,pipewire-pulse,wireplumber,alsa-utils"
    PACKAGES="$PACKAGES,libsane1,sane-utils,cups-client,cups-ipp-utils,libusb-1.0-0,libhidapi-hidraw0"
    PACKAGES="$PACKAGES,fonts-dejavu-core,locales,tzdata,firmware-linux-free"
fi

echo "build-rootfs: debootstrap $SUITE from $MIRROR into $ROOTFS"
mkdir -p "$ROOTFS"
debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$ROOTFS" "$MIRROR"

in_root() { chroot "$ROOTFS" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }

# --- the cabina software ----------------------------------------------------------------------
echo "build-rootfs: installing $(basename "$WHEEL")"
mkdir -p "$ROOTFS/opt/cabina/wheels"
cp "$WHEEL" "$ROOTFS/opt/cabina/wheels/"
WHEEL_IN_ROOT=/opt/cabina/wheels/$(basename "$WHEEL")
in_root python3 -m venv /opt/cabina/venv
if [ "$NO_DEPS" -eq 1 ]; then
    in_root /opt/cabina/venv/bin/pip install --no-index --no-deps --no-compile "$WHEEL_IN_ROOT"
else
    cp "$WHEELHOUSE"/*.whl "$ROOTFS/opt/cabina/wheels/"
    # The cabin's extra: the kiosk, its devices and the technician's tools, not the hub's stack.
    in_root /opt/cabina/venv/bin/pip install --no-index --find-links /opt/cabina/wheels \
        "${WHEEL_IN_ROOT}[cabin]"
fi
rm -rf "$ROOTFS/opt/cabina/wheels"
ln -sf /opt/cabina/venv/bin/cabina "$ROOTFS/usr/local/bin/cabina"

# --- users and the data partition ------------------------------------------------------------
for group in video input render audio lp dialout plugdev scanner; do
    in_root groupadd --force --system "$group"
done
in_root useradd --system --user-group --home-dir /var/lib/cabina/kiosk --no-create-home \
    --shell /usr/sbin/nologin --groups video,input,render,audio,lp,dialout,plugdev,scanner \
    cabina-kiosk
# The mount point of the data partition; what first boot writes lives there.
install -d -m 0755 "$ROOTFS/var/lib/cabina"

# --- read-only root ----------------------------------------------------------------------------
cat > "$ROOTFS/etc/fstab" <<'EOF'
# Cabina: the system is read-only; everything a cabin writes goes to the data partition.
# <file system>      <mount point>    <type>  <options>                                <dump> <pass>
LABEL=cabina-root    /                ext4    ro,noatime,errors=remount-ro             0      1
LABEL=cabina-data    /var/lib/cabina  ext4    rw,noatime,nodev,nosuid,noexec           0      2
LABEL=CABINA-EFI     /boot/efi        vfat    ro,umask=0077,noauto,x-systemd.automount 0      2
tmpfs                /tmp             tmpfs   rw,nosuid,nodev,mode=1777,size=256M      0      0
tmpfs                /var/tmp         tmpfs   rw,nosuid,nodev,mode=1777,size=64M       0      0
EOF
mkdir -p "$ROOTFS/boot/efi"
# Logs in memory (the root is read-only); the hub hears about trouble through telemetry.
mkdir -p "$ROOTFS/etc/systemd/journald.conf.d"
printf '[Journal]\nStorage=volatile\nRuntimeMaxUse=64M\n' \
    > "$ROOTFS/etc/systemd/journald.conf.d/cabina.conf"
# Each cabin gets its own machine id at boot (a copy of the image must not share one).
: > "$ROOTFS/etc/machine-id"
rm -f "$ROOTFS/var/lib/dbus/machine-id"
ln -sf /etc/machine-id "$ROOTFS/var/lib/dbus/machine-id"
echo cabina > "$ROOTFS/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tcabina\n' > "$ROOTFS/etc/hosts"

# --- network -----------------------------------------------------------------------------------
mkdir -p "$ROOTFS/etc/systemd/network"
printf '[Match]\nType=ether\n\n[Network]\nDHCP=yes\nMulticastDNS=no\n' \
    > "$ROOTFS/etc/systemd/network/20-wired.network"
systemctl --root="$ROOTFS" enable systemd-networkd.service
if [ -f "$ROOTFS/lib/systemd/system/systemd-resolved.service" ]; then
    systemctl --root="$ROOTFS" enable systemd-resolved.service
    ln -sf /run/systemd/resolve/stub-resolv.conf "$ROOTFS/etc/resolv.conf"
fi

# --- SSH: keys only, host keys made by each cabin on its data partition ------------------------
cat > "$ROOTFS/etc/ssh/sshd_config.d/cabina.conf" <<'EOF'
# Cabina: technicians sign in with their keys; no password is ever accepted.
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitEmptyPasswords no
PermitRootLogin prohibit-password
AuthenticationMethods publickey
HostKey /var/lib/cabina/ssh/etc/ssh/ssh_host_ed25519_key
HostKey /var/lib/cabina/ssh/etc/ssh/ssh_host_rsa_key
EOF
# Host keys generated at build time would be shared by every cabin made from this image.
rm -f "$ROOTFS"/etc/ssh/ssh_host_*
mkdir -p "$ROOTFS/etc/systemd/system/ssh.service.d"
cat > "$ROOTFS/etc/systemd/system/ssh.service.d/cabina.conf" <<'EOF'
[Service]
ExecStartPre=/usr/bin/mkdir -p /var/lib/cabina/ssh/etc/ssh
ExecStartPre=/usr/bin/ssh-keygen -A -f /var/lib/cabina/ssh
EOF
if [ -n "$KEYS" ]; then
    install -d -m 0700 "$ROOTFS/root/.ssh"
    install -m 0600 "$KEYS" "$ROOTFS/root/.ssh/authorized_keys"
fi
# No password login on the console either: root has none, the kiosk user has none.
in_root passwd --lock root

# --- the cabina units --------------------------------------------------------------------------
for unit in cabina-kiosk.service cabina-firstboot.service; do
    install -m 0644 "$REPO/systemd/$unit" "$ROOTFS/etc/systemd/system/$unit"
done
systemctl --root="$ROOTFS" enable cabina-firstboot.service cabina-kiosk.service ssh.service
systemctl --root="$ROOTFS" set-default graphical.target

# --- tidy --------------------------------------------------------------------------------------
in_root apt-get clean
rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/*.bin "$ROOTFS"/tmp/*
echo "build-rootfs: done: $ROOTFS"
