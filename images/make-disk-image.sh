#!/bin/sh
# Turn a root file system made by build-rootfs.sh into a disk image to flash on a cabin:
# GPT with an EFI partition (GRUB, standalone), the read-only root and an empty data partition.
# No loop devices and no mounting: each file system is made from a directory (mke2fs -d,
# mtools) and the partitions are written into the image at their offsets.
#
#   images/make-disk-image.sh --rootfs build/rootfs --out build/cabina.img \
#       [--data-size 4096] [--filesystems-only]
#
#   --data-size MiB      the data partition (default 4096): credential, settings, outbox, logs
#   --filesystems-only   stop after root.ext4 and data.ext4 (hosts without mtools or sfdisk)
#
# Needs e2fsprogs; for the whole image also dosfstools, mtools and fdisk (sfdisk), and a
# rootfs built without --minimal (it provides the kernel and GRUB's EFI modules).
set -eu

ROOTFS=""
OUT=""
DATA_MIB=4096
ONLY_FS=0
EFI_MIB=64

die() { echo "make-disk-image: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
    case "$1" in
        --rootfs) ROOTFS=$2; shift 2 ;;
        --out) OUT=$2; shift 2 ;;
        --data-size) DATA_MIB=$2; shift 2 ;;
        --filesystems-only) ONLY_FS=1; shift ;;
        -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "Expected an option from --help, but got '$1'" ;;
    esac
done
[ "$(id -u)" -eq 0 ] || die "Expected to run as root (the root file system's files are root's)"
[ -d "$ROOTFS/etc" ] || die "Expected --rootfs DIR made by build-rootfs.sh, but got '$ROOTFS'"
[ -n "$OUT" ] || die "Expected --out FILE"
command -v mke2fs >/dev/null || die "Expected mke2fs (apt-get install e2fsprogs)"

WORK=$(dirname "$OUT")
mkdir -p "$WORK"

# The root: what the tree holds, and a quarter more for the file system's own needs.
ROOT_MIB=$(( $(du -sm "$ROOTFS" | cut -f1) * 5 / 4 + 64 ))
rm -f "$WORK/root.ext4" "$WORK/data.ext4"
mke2fs -q -t ext4 -L cabina-root -d "$ROOTFS" -E root_owner=0:0 "$WORK/root.ext4" "${ROOT_MIB}M"
mke2fs -q -t ext4 -L cabina-data -m 0 "$WORK/data.ext4" "${DATA_MIB}M"
echo "make-disk-image: root.ext4 ($ROOT_MIB MiB) and data.ext4 ($DATA_MIB MiB) in $WORK"
[ "$ONLY_FS" -eq 0 ] || exit 0

for tool in mkfs.vfat mmd mcopy sfdisk; do
    command -v "$tool" >/dev/null || die "Expected $tool (apt-get install dosfstools mtools fdisk)"
done
[ -e "$ROOTFS/vmlinuz" ] || die "Expected a kernel in the rootfs: build it without --minimal"

# GRUB as one EFI program with its configuration inside, made by the rootfs's own GRUB.
cat > "$ROOTFS/tmp/grub.cfg" <<'EOF'
set timeout=0
search --no-floppy --label cabina-root --set=root
linux /vmlinuz root=LABEL=cabina-root ro quiet console=tty1
initrd /initrd.img
boot
EOF
chroot "$ROOTFS" grub-mkstandalone -O x86_64-efi -o /tmp/BOOTX64.EFI \
    --modules="part_gpt ext2 search search_label linux normal" "boot/grub/grub.cfg=/tmp/grub.cfg"
rm -f "$WORK/efi.vfat"
mkfs.vfat -C -n CABINA-EFI "$WORK/efi.vfat" $((EFI_MIB * 1024)) >/dev/null
mmd -i "$WORK/efi.vfat" ::/EFI ::/EFI/BOOT
mcopy -i "$WORK/efi.vfat" "$ROOTFS/tmp/BOOTX64.EFI" ::/EFI/BOOT/BOOTX64.EFI
rm -f "$ROOTFS/tmp/grub.cfg" "$ROOTFS/tmp/BOOTX64.EFI"

# The disk: 1 MiB for the partition table, the three partitions, 1 MiB for the backup table.
TOTAL=$((1 + EFI_MIB + ROOT_MIB + DATA_MIB + 1))
rm -f "$OUT"
truncate -s "${TOTAL}M" "$OUT"
sfdisk --quiet "$OUT" <<EOF
label: gpt
start=1MiB, size=${EFI_MIB}MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="CABINA-EFI"
size=${ROOT_MIB}MiB, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, name="cabina-root"
size=${DATA_MIB}MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="cabina-data"
EOF
dd if="$WORK/efi.vfat" of="$OUT" bs=1M seek=1 conv=notrunc,sparse status=none
dd if="$WORK/root.ext4" of="$OUT" bs=1M seek=$((1 + EFI_MIB)) conv=notrunc,sparse status=none
dd if="$WORK/data.ext4" of="$OUT" bs=1M seek=$((1 + EFI_MIB + ROOT_MIB)) conv=notrunc,sparse \
    status=none
echo "make-disk-image: $OUT ($TOTAL MiB): flash it as docs/provisioning.md says"
