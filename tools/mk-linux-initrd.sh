#!/bin/sh
# Build a tiny initramfs for booting Debian's kernel under vdi-vmm: busybox
# (static) as /init's shell, which mounts /proc and /sys, reports on the
# serial console that userspace runs and which framebuffer the kernel
# registered, then powers off.
#
#   tools/mk-linux-initrd.sh OUT.cpio.gz
set -eu
out=${1:?usage: mk-linux-initrd.sh OUT.cpio.gz}
busybox=/bin/busybox
[ -x "$busybox" ] || { echo "mk-linux-initrd: $busybox missing (apt-get install busybox-static)" >&2; exit 1; }
case "$(file -b "$busybox" 2>/dev/null || echo static)" in
*dynamic*) echo "mk-linux-initrd: $busybox is not static (install busybox-static)" >&2; exit 1 ;;
esac

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/proc" "$root/sys" "$root/dev"
cp "$busybox" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
cat >"$root/init" <<'INIT'
#!/bin/sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev 2>/dev/null
echo "vdi-linux: userspace up, kernel $(/bin/busybox uname -r)"
echo "vdi-linux: framebuffers: $(/bin/busybox cat /proc/fb | /bin/busybox tr '\n' ';')"
echo "vdi-linux: done"
/bin/busybox poweroff -f
INIT
chmod 755 "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet) | gzip -9 >"$out.tmp"
mv "$out.tmp" "$out"
