#!/bin/sh
# install.sh: builds linkmirror from this checkout and installs it with its systemd service.
#
#   sudo ./install.sh                  install (or upgrade) and start the service
#   sudo ./install.sh --uninstall      remove everything install.sh installed
#
# Options:
#   --prefix DIR   where linkmirror lives and runs from (default /usr/local): DIR/bin/linkmirror,
#                  DIR/lib/linkmirror/, and the unit (whose ExecStart runs DIR/bin/linkmirror) in
#                  DIR/lib/systemd/system for /usr and /usr/local, else in /etc/systemd/system;
#                  --uninstall needs the same --prefix
#   --destdir DIR  stage the files under DIR instead of / (also DESTDIR=DIR), for packagers: the
#                  paths inside stay those of --prefix; nothing outside DIR is written, systemd and
#                  routes are not touched, linkmirror is not run
#   --no-service   install the unit file but do not enable or start it (and run nothing)
#   --no-test-tools
#                  do not install what only the test suite needs (ping, systemd-analyze)
#   --dry-run      print every action, change nothing
#   --uninstall    stop and disable the service, remove the files
#   --flush        with --uninstall: first delete linkmirror's routes (`linkmirror flush` with
#                  the configured tables)
#   -h, --help     this text
#
# What it does: installs what is missing (Deno 2 from the npm registry, iproute2 with apt-get, and
# the test suite's ping and systemd-analyze, through scripts/deps.sh), builds (`deno task
# compile`: a compiled binary, or the bundle and its launcher where `deno compile` cannot
# download its runtime), then installs
#   /usr/local/bin/linkmirror                      the binary, or the launcher
#   /usr/local/lib/linkmirror/linkmirror.js        the bundle (launcher installs only) and
#   /usr/local/lib/linkmirror/linkmirror-chunks/   the chunks it loads
#   /usr/local/lib/linkmirror/installed            what install.sh created, for --uninstall
#   /usr/local/lib/systemd/system/linkmirror.service
#   /etc/default/linkmirror                        settings; written once, never overwritten
# (with --prefix, under that prefix instead of /usr/local; /etc/default/linkmirror stays in /etc)
# and, when systemd runs (/run/systemd/system exists), enables and starts linkmirror.service;
# otherwise it runs `linkmirror sync` once and says how to run `linkmirror watch`.
# Files that are already up to date are left alone: a second run changes nothing.
#
# Exit status: 0 done, 1 refused or failed, 2 bad usage.
#
# For tests only: LINKMIRROR_INSTALL_TEST_OS and LINKMIRROR_INSTALL_TEST_ARCH stand in for
# `uname -s` and `uname -m`.
set -eu

PROG=install.sh
REPO=$(cd "$(dirname "$0")" && pwd)

ENVFILE=/etc/default/linkmirror
SERVICE=linkmirror.service

say() { printf '%s: %s\n' "$PROG" "$*"; }
die() { printf '%s: %s\n' "$PROG" "$*" >&2; exit 1; }
usage_error() {
  printf '%s: %s\n' "$PROG" "$*" >&2
  printf 'Usage: %s [--prefix DIR] [--destdir DIR] [--no-service] [--no-test-tools] [--dry-run] | --uninstall [--flush] [--prefix DIR] [--destdir DIR] [--dry-run]\n' "$PROG" >&2
  exit 2
}
usage() { sed -n '2,/^set -eu/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }

# --- options -------------------------------------------------------------------------------------
PREFIX=/usr/local
DEST=${DESTDIR:-}
UNINSTALL=0
FLUSH=0
NO_SERVICE=0
TEST_TOOLS=1
DRY_RUN=0
while [ $# -gt 0 ]; do
  case $1 in
    --prefix)
      if [ $# -lt 2 ] || [ -z "$2" ]; then usage_error "--prefix needs a directory"; fi
      PREFIX=$2
      shift 2
      ;;
    --prefix=*)
      PREFIX=${1#--prefix=}
      [ -n "$PREFIX" ] || usage_error "--prefix needs a directory"
      shift
      ;;
    --destdir)
      if [ $# -lt 2 ] || [ -z "$2" ]; then usage_error "--destdir needs a directory"; fi
      DEST=$2
      shift 2
      ;;
    --destdir=*)
      DEST=${1#--destdir=}
      [ -n "$DEST" ] || usage_error "--destdir needs a directory"
      shift
      ;;
    --uninstall) UNINSTALL=1; shift ;;
    --flush) FLUSH=1; shift ;;
    --no-service) NO_SERVICE=1; shift ;;
    --no-test-tools) TEST_TOOLS=0; shift ;;
    --dry-run) DRY_RUN=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage_error "unknown option: $1" ;;
  esac
done
[ "$FLUSH" = 0 ] || [ "$UNINSTALL" = 1 ] || usage_error "--flush only goes with --uninstall"
[ "$FLUSH" = 0 ] || [ -z "$DEST" ] ||
  usage_error "--flush deletes this machine's routes; it does not go with --destdir"

# Absolute, without trailing slashes ("/" becomes "").
absolute() {
  case $1 in
    /*) dir=$1 ;;
    *) dir=$(pwd)/$1 ;;
  esac
  while [ "${dir%/}" != "$dir" ]; do dir=${dir%/}; done
  printf '%s' "$dir"
}
PREFIX=$(absolute "$PREFIX")
case $PREFIX in
  *[!A-Za-z0-9/._+-]*) usage_error "--prefix: use a path of letters, digits and / . _ + - only" ;;
esac
# ROOT (DESTDIR) is prepended to every installed path; empty for the real system.
ROOT=""
[ -z "$DEST" ] || ROOT=$(absolute "$DEST")
[ -n "$ROOT" ] || [ -z "$DEST" ] || usage_error "--destdir /: leave it out to install into /"

BIN=$PREFIX/bin/linkmirror
LIBDIR=$PREFIX/lib/linkmirror
BUNDLE=$LIBDIR/linkmirror.js
CHUNKS=$LIBDIR/linkmirror-chunks
MANIFEST=$LIBDIR/installed
# systemd reads units from /usr/lib and /usr/local/lib, not from other prefixes.
case $PREFIX in
  /usr | /usr/local) UNIT=$PREFIX/lib/systemd/system/linkmirror.service ;;
  *) UNIT=/etc/systemd/system/linkmirror.service ;;
esac

# --- refusals ------------------------------------------------------------------------------------
os=${LINKMIRROR_INSTALL_TEST_OS:-$(uname -s)}
[ "$os" = Linux ] || die "linkmirror runs on Linux only (this is $os); nothing was changed"
arch=${LINKMIRROR_INSTALL_TEST_ARCH:-$(uname -m)}
case $arch in
  x86_64 | amd64) TARGET=x86_64-unknown-linux-gnu ;;
  aarch64 | arm64) TARGET=aarch64-unknown-linux-gnu ;;
  *) die "unsupported architecture $arch (supported: x86_64, aarch64); nothing was changed" ;;
esac
[ "$(id -u)" -eq 0 ] || die "must be run as root (try: sudo $0); nothing was changed"

# --- helpers -------------------------------------------------------------------------------------
CHANGED=0      # whether a file was installed, updated or removed
CREATED_DIRS="" # directories this run created (paths without ROOT), one per line

# Runs a command, or only prints it with --dry-run.
act() {
  if [ "$DRY_RUN" = 1 ]; then
    say "would run: $*"
  else
    say "running: $*"
    "$@"
  fi
}

systemd_running() { [ -d /run/systemd/system ]; }

# Whether install.sh may talk to systemd: a real install, with the service wanted, under systemd.
manage_service() { [ -z "$ROOT" ] && [ "$NO_SERVICE" = 0 ] && systemd_running; }

# make_dir DIR: creates $ROOT/DIR and missing parents, remembering which it created.
make_dir() {
  [ -d "$ROOT$1" ] && return 0
  if [ "$1" = / ]; then
    # The staging root itself (--destdir) is not ours to remove later.
    [ "$DRY_RUN" = 1 ] || mkdir -p "$ROOT"
    return 0
  fi
  make_dir "$(dirname "$1")"
  if [ "$DRY_RUN" = 1 ]; then
    say "would create directory $1"
    return 0
  fi
  mkdir -m 755 "$ROOT$1"
  CREATED_DIRS="$CREATED_DIRS$1
"
}

file_mode() { stat -c %a "$1"; }

# put SRC DEST MODE: installs SRC as $ROOT/DEST with MODE unless it is already identical.
# The new file is written beside the old one and renamed over it, so a running binary is safe.
put() {
  target=$ROOT$2
  if [ -f "$target" ] && cmp -s "$1" "$target" && [ "$(file_mode "$target")" = "$3" ]; then
    say "unchanged $2"
    return 0
  fi
  verb=installed
  [ -e "$target" ] && verb=updated
  if [ "$DRY_RUN" = 1 ]; then
    say "would install $2"
    return 0
  fi
  make_dir "$(dirname "$2")"
  cp "$1" "$target.tmp.$$"
  chmod "$3" "$target.tmp.$$"
  mv -f "$target.tmp.$$" "$target"
  CHANGED=1
  say "$verb $2"
}

# remove FILE: deletes $ROOT/FILE if it exists.
remove() {
  [ -e "$ROOT$1" ] || [ -L "$ROOT$1" ] || return 0
  if [ "$DRY_RUN" = 1 ]; then
    say "would remove $1"
    return 0
  fi
  rm -f "$ROOT$1"
  CHANGED=1
  say "removed $1"
}

# remove_chunks [KEEP]: deletes the installed bundle chunks, except those also in directory KEEP
# (the chunks of the bundle being installed). Chunk names are hashes of their text: a new
# build's chunks come in beside the old ones, and these go once the new entry is in place.
remove_chunks() {
  for chunk in "$ROOT$CHUNKS"/*.js; do
    [ -e "$chunk" ] || continue
    name=${chunk##*/}
    [ -n "${1:-}" ] && [ -e "$1/$name" ] && continue
    remove "$CHUNKS/$name"
  done
}

# The directories install.sh created, from the manifest and this run.
created_dirs() {
  {
    [ -f "$ROOT$MANIFEST" ] && sed -n 's/^dir //p' "$ROOT$MANIFEST"
    printf '%s' "$CREATED_DIRS"
  } | sed '/^$/d' | sort -u
}

# Scratch files (the launcher and the manifest before they are installed); removed on exit.
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/linkmirror-install.XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT
trap 'exit 1' INT TERM HUP

deno_ok() {
  command -v deno >/dev/null 2>&1 && deno --version 2>/dev/null | head -n 1 | grep -q '^deno 2\.'
}

# Runs the installed linkmirror with the settings of /etc/default/linkmirror.
run_linkmirror() {
  (
    if [ -f "$ENVFILE" ]; then
      set -a
      # shellcheck disable=SC1090
      . "$ENVFILE"
      set +a
    fi
    exec "$BIN" "$@"
  )
}

# --- uninstall -----------------------------------------------------------------------------------
if [ "$UNINSTALL" = 1 ]; then
  if manage_service; then
    if [ -f "$UNIT" ] || systemctl cat "$SERVICE" >/dev/null 2>&1; then
      act systemctl disable --now "$SERVICE"
    fi
  fi
  if [ "$FLUSH" = 1 ]; then
    if [ -x "$BIN" ]; then
      if [ "$DRY_RUN" = 1 ]; then
        say "would run: $BIN flush (with the settings of $ENVFILE)"
      else
        say "running: $BIN flush (with the settings of $ENVFILE)"
        run_linkmirror flush || die "linkmirror flush failed; nothing was removed"
      fi
    else
      say "no $BIN to run flush with; skipping --flush"
    fi
  fi
  dirs=$(created_dirs)
  remove_chunks
  for file in "$BIN" "$BUNDLE" "$UNIT" "$ENVFILE" "$MANIFEST"; do remove "$file"; done
  # Directories install.sh created, deepest first, if nothing else lives in them.
  printf '%s\n' "$dirs" | awk 'NF { print length($0) " " $0 }' | sort -rn | cut -d' ' -f2- |
    while IFS= read -r dir; do
      [ -d "$ROOT$dir" ] || continue
      if [ "$DRY_RUN" = 1 ]; then
        say "would remove directory $dir (if empty)"
      elif rmdir "$ROOT$dir" 2>/dev/null; then
        say "removed directory $dir"
      fi
    done
  if manage_service && [ "$CHANGED" = 1 ]; then act systemctl daemon-reload; fi
  if [ "$DRY_RUN" = 1 ]; then
    say "dry run: nothing was changed"
  elif [ "$CHANGED" = 0 ]; then
    say "nothing to remove: linkmirror is not installed${ROOT:+ under $ROOT}"
  else
    say "linkmirror is uninstalled${ROOT:+ from $ROOT}"
    if [ "$FLUSH" = 0 ] && [ -z "$ROOT" ]; then
      say "its routes (proto 77) were left in place; delete them with, e.g.:" \
        "ip route flush table 539098368 proto 77; ip -6 route flush table 539098368 proto 77"
    fi
    if [ -z "$ROOT" ] && deno_ok; then
      say "Deno stays installed (remove it with: npm uninstall -g deno)"
    fi
  fi
  exit 0
fi

# --- dependencies --------------------------------------------------------------------------------
if [ "$DRY_RUN" = 1 ]; then
  deno_ok || say "would install Deno 2 from the npm registry (scripts/deps.sh)"
  command -v ip >/dev/null 2>&1 || say "would install iproute2 with apt-get (scripts/deps.sh)"
else
  LINKMIRROR_DEPS_TEST=$TEST_TOOLS sh "$REPO/scripts/deps.sh" ||
    die "installing the dependencies failed"
  deno_ok || die "Deno 2 is not on PATH after installing it"
fi

# --- build ---------------------------------------------------------------------------------------
DIST=$REPO/dist
if [ "$DRY_RUN" = 1 ]; then
  say "would build $DIST/linkmirror (deno run --allow-all scripts/compile.ts); the lines" \
    "below compare the current build with what is installed"
else
  say "building linkmirror (deno task compile)"
  (cd "$REPO" && deno run --allow-all scripts/compile.ts --target "$TARGET") ||
    die "the build failed"
fi

# What the build made: a compiled binary, or the launcher of the bundle ("#!" at its start).
KIND=""
if [ -f "$DIST/linkmirror" ]; then
  if [ "$(head -c 2 "$DIST/linkmirror")" = "#!" ]; then KIND=bundle; else KIND=binary; fi
fi

# --- files ---------------------------------------------------------------------------------------
case $KIND in
  binary)
    put "$DIST/linkmirror" "$BIN" 755
    remove "$BUNDLE" # from an earlier launcher install
    remove_chunks
    ;;
  bundle)
    # The chunks first, the entry that loads them last, then the chunks no entry loads any more.
    for chunk in "$DIST/linkmirror-chunks"/*.js; do put "$chunk" "$CHUNKS/${chunk##*/}" 644; done
    put "$DIST/linkmirror.js" "$BUNDLE" 644
    remove_chunks "$DIST/linkmirror-chunks"
    deno_path=$(command -v deno || echo deno)
    launcher=$SCRATCH/linkmirror
    sed -e "s|^DENO=.*|DENO='$deno_path'|" -e "s|^SCRIPT=.*|SCRIPT='$BUNDLE'|" \
      "$DIST/linkmirror" >"$launcher"
    put "$launcher" "$BIN" 755
    ;;
  *)
    # Only a dry run gets here: nothing has been built yet.
    say "would install $BIN (the compiled binary, or a launcher, $BUNDLE and $CHUNKS/)"
    ;;
esac
# The unit runs the program from the prefix.
sed "s|^ExecStart=/usr/local/bin/linkmirror |ExecStart=$BIN |" "$REPO/systemd/linkmirror.service" \
  >"$SCRATCH/linkmirror.service"
grep -q "^ExecStart=$BIN watch\$" "$SCRATCH/linkmirror.service" ||
  die "systemd/linkmirror.service has no 'ExecStart=/usr/local/bin/linkmirror watch' to adapt"
put "$SCRATCH/linkmirror.service" "$UNIT" 644
if [ -e "$ROOT$ENVFILE" ]; then
  say "kept $ENVFILE (your settings; never overwritten)"
else
  put "$REPO/systemd/linkmirror.env" "$ENVFILE" 644
fi

# The manifest: which directories install.sh created (files are a fixed list), for --uninstall.
if [ "$DRY_RUN" = 0 ]; then
  make_dir "$LIBDIR"
  manifest=$SCRATCH/installed
  {
    echo "# Written by linkmirror's install.sh: what --uninstall removes besides the fixed files."
    created_dirs | sed 's/^/dir /'
  } >"$manifest"
  put "$manifest" "$MANIFEST" 644
else
  say "would record created directories in $MANIFEST"
fi

# --- service -------------------------------------------------------------------------------------
if [ -n "$ROOT" ]; then
  if [ "$DRY_RUN" = 1 ]; then
    say "would install under $ROOT, touching neither systemd nor routes (--destdir)"
  elif [ "$CHANGED" = 1 ]; then
    say "installed under $ROOT; systemd and routes were not touched (--destdir)"
  else
    say "already up to date under $ROOT; systemd and routes were not touched (--destdir)"
  fi
elif [ "$NO_SERVICE" = 1 ]; then
  say "service not enabled (--no-service); to start it:" \
    "systemctl daemon-reload && systemctl enable --now $SERVICE"
elif systemd_running; then
  [ "$CHANGED" = 0 ] || act systemctl daemon-reload
  if ! systemctl is-enabled --quiet "$SERVICE" 2>/dev/null; then act systemctl enable "$SERVICE"; fi
  if ! systemctl is-active --quiet "$SERVICE" 2>/dev/null; then
    act systemctl start "$SERVICE" ||
      die "$SERVICE did not start; see: journalctl -u linkmirror -n 50 -o cat"
  elif [ "$CHANGED" = 1 ]; then
    act systemctl restart "$SERVICE" ||
      die "$SERVICE did not restart; see: journalctl -u linkmirror -n 50 -o cat"
  else
    say "$SERVICE is enabled and running"
  fi
  [ "$DRY_RUN" = 1 ] || say "check it: systemctl status linkmirror; ip route show table 539098368"
else
  say "systemd is not running here (no /run/systemd/system): mirroring once instead"
  if [ "$DRY_RUN" = 1 ]; then
    say "would run: $BIN sync (with the settings of $ENVFILE)"
  else
    say "running: $BIN sync (with the settings of $ENVFILE)"
    run_linkmirror sync || die "linkmirror sync failed (see above); the files are installed"
    say "to keep the tables exact as networks change, keep this running (e.g. from your init" \
      "system): sh -c 'set -a; . $ENVFILE; exec $BIN watch'"
  fi
fi
if [ "$DRY_RUN" = 1 ]; then say "dry run: nothing was changed"; fi
exit 0
