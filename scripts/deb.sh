#!/bin/sh
# deno task deb: builds a Debian package of linkmirror, dist/linkmirror_<version>_<arch>.deb.
#
#   sudo deno task deb [--out-dir DIR]
#
# The package is what `install.sh --prefix /usr --destdir STAGE --no-service` stages (the program
# in /usr/bin, the unit in /usr/lib/systemd/system, /etc/default/linkmirror as a conffile),
# packed with dpkg-deb. Its maintainer scripts enable and start the service on install and stop
# and disable it on removal, when systemd runs. Needs root (install.sh does) and dpkg-deb.
# Where the build is the launcher (no compiled binary), the package runs the `deno` that was on
# PATH at build time, so the target needs Deno 2 there too.
set -eu
REPO=$(cd "$(dirname "$0")/.." && pwd)
OUT=$REPO/dist
while [ $# -gt 0 ]; do
  case $1 in
    --out-dir) OUT=$2; shift 2 ;;
    *) echo "deb.sh: unknown option: $1" >&2; exit 2 ;;
  esac
done
command -v dpkg-deb >/dev/null 2>&1 || { echo "deb.sh: dpkg-deb is missing (apt-get install dpkg)" >&2; exit 1; }

version=$(sed -n 's/^ *"version": "\([^"]*\)".*/\1/p' "$REPO/deno.json")
arch=$(dpkg --print-architecture)
stage=$(mktemp -d "${TMPDIR:-/tmp}/linkmirror-deb.XXXXXX")
trap 'rm -rf "$stage"' EXIT

sh "$REPO/install.sh" --prefix /usr --destdir "$stage/root" --no-service --no-test-tools >&2
rm -f "$stage/root/usr/lib/linkmirror/installed" # dpkg keeps its own list
mkdir -p "$stage/root/DEBIAN"
size=$(du -sk "$stage/root" | cut -f1)
cat >"$stage/root/DEBIAN/control" <<CONTROL
Package: linkmirror
Version: $version
Architecture: $arch
Maintainer: linkmirror developers <linkmirror@localhost>
Installed-Size: $size
Depends: iproute2
Section: net
Priority: optional
Description: keeps LAN routes working under a full-tunnel VPN
 Mirrors the on-link routes of the main routing table into a full-tunnel VPN's
 table (Firezone's 539098368 by default) and keeps the copies exact as networks
 change. Settings: /etc/default/linkmirror.
CONTROL
echo /etc/default/linkmirror >"$stage/root/DEBIAN/conffiles"
cat >"$stage/root/DEBIAN/postinst" <<'SCRIPT'
#!/bin/sh
set -e
if [ "$1" = configure ] && [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  systemctl enable linkmirror.service
  systemctl restart linkmirror.service
fi
SCRIPT
cat >"$stage/root/DEBIAN/prerm" <<'SCRIPT'
#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then systemctl disable --now linkmirror.service || true; fi
SCRIPT
cat >"$stage/root/DEBIAN/postrm" <<'SCRIPT'
#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
SCRIPT
chmod 755 "$stage/root/DEBIAN/postinst" "$stage/root/DEBIAN/prerm" "$stage/root/DEBIAN/postrm"
mkdir -p "$OUT"
deb=$OUT/linkmirror_${version}_${arch}.deb
dpkg-deb --root-owner-group --build "$stage/root" "$deb" >&2
echo "$deb"
