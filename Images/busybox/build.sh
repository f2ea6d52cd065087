#!/bin/bash
# Image recipe "busybox": a rootfs holding Debian's busybox-static and a link for each of its applets,
# with /etc/passwd and /etc/group for root and nobody, and empty mount points for /proc, /tmp, /dev and
# /work (the sandbox mounts them). Usage: build.sh ROOTFS   (normally via `corral image build busybox`)
#
# The binary comes from the installed busybox-static package, or from `apt-get download busybox-static`
# when it is not installed (the host's own busybox may be the dynamic one, useless inside an image).
set -euo pipefail
dest=${1:?usage: build.sh ROOTFS}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

if dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed'; then
    busybox=/bin/busybox
    version=$(dpkg-query -W -f='${Version}' busybox-static)
else
    if ! (cd "$scratch" && apt-get download busybox-static >/dev/null 2>&1); then
        echo "build.sh: cannot fetch busybox-static: run 'apt-get update' (or 'apt-get install busybox-static') first" >&2
        exit 1
    fi
    dpkg -x "$scratch"/busybox-static_*.deb "$scratch/pkg"
    busybox="$scratch/pkg/bin/busybox"
    version=$(dpkg-deb -f "$scratch"/busybox-static_*.deb Version)
fi
if ldd "$busybox" >/dev/null 2>&1; then
    echo "build.sh: $busybox is dynamically linked; the image needs busybox-static" >&2
    exit 1
fi

new="$dest.new.$$"
rm -rf "$new"
mkdir -p "$new"/{bin,sbin,usr/bin,usr/sbin,etc,proc,dev,work,root,tmp,var/tmp}
chmod 1777 "$new/tmp" "$new/var/tmp"
chmod 700 "$new/root"
cp "$busybox" "$new/bin/busybox"
for applet in $("$new/bin/busybox" --list-full); do
    [ "$applet" = bin/busybox ] || ln -sf /bin/busybox "$new/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$new/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$new/etc/group"
printf 'NAME="Corral busybox image"\nBUSYBOX_STATIC_VERSION="%s"\n' "$version" >"$new/etc/os-release"

# Replace an earlier build only once the new one is complete.
mkdir -p "$(dirname "$dest")"
if [ -e "$dest" ]; then mv "$dest" "$dest.old.$$"; fi
mv "$new" "$dest"
rm -rf "$dest.old.$$"
echo "built busybox image (busybox-static $version) at $dest"
