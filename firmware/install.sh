#!/bin/bash
# Breakage Pi installer: turns a fresh Raspberry Pi OS Bookworm 64-bit (Lite) into the instrument.
# Models: Pi 4 B, Pi 5, Zero 2 W, Pi 3 B+ (no USB sync on the 3 B+). Run from a checkout:
#
#   sudo firmware/install.sh [install] [--overlayroot] [--data-partition DEVICE]   (= sudo make install)
#   sudo firmware/install.sh uninstall                                             (= sudo make uninstall)
#
# install: apt packages; user breakage-pi in audio, gpio, i2c, spi; a venv in /opt/breakage-pi with this
# checkout installed; the data dir /var/lib/breakage-pi; /etc/breakage-pi.toml (kept if present);
# systemd/*.service enabled; firmware/config.txt and cmdline.txt merged into /boot/firmware (backed up
# once); firmware/services.txt applied. Running it again changes nothing more.
# --overlayroot: read-only root under a RAM overlay (overlayroot=tmpfs:recurse=0), volatile journal, no
# swap. --data-partition DEVICE: mount that ext4 partition (e.g. LABEL=breakage-data) at the data dir.
# uninstall: undoes all that but keeps the data dir, /etc/breakage-pi.toml and the config.txt backup.
#
# BREAKAGE_PI_ROOT=DIR makes DIR stand for / (the tests' fake root); the commands that change the
# system (apt-get, systemctl, useradd, ...) are whatever $PATH finds, so tests put recorders first.
set -euo pipefail

ROOT=${BREAKAGE_PI_ROOT:-}
SOURCE=$(cd "$(dirname "$0")/.." && pwd)
PREFIX=/opt/breakage-pi
DATA=/var/lib/breakage-pi
CONFIG=/etc/breakage-pi.toml
BOOT=/boot/firmware
SERVICE_USER=breakage-pi
GROUPS_NEEDED=(audio gpio i2c spi)
STATE=$PREFIX/install-state
APT_PACKAGES=(python3-venv python3-dev gcc libasound2-dev libsndfile1 alsa-utils i2c-tools)
BEGIN_MARK="# >>> breakage-pi (firmware/config.txt; managed by firmware/install.sh) >>>"
END_MARK="# <<< breakage-pi <<<"
OVERLAYROOT_WORD="overlayroot=tmpfs:recurse=0"

say() { echo "breakage-pi install: $*"; }
die() { echo "breakage-pi install: error: $*" >&2; exit 1; }

# Words of a list file, comments and blank lines dropped.
words() { sed -e 's/#.*//' -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' -e '/^$/d' "$1"; }

# Install a file only when its content differs (keeps timestamps and the second run quiet).
put() { # put SOURCE TARGET MODE
    mkdir -p "$(dirname "$2")"
    if ! cmp -s "$1" "$2"; then install -m "$3" "$1" "$2"; say "wrote ${2#"$ROOT"}"; fi
}

# Add a line to a file unless it is there.
add_line() { # add_line FILE LINE
    mkdir -p "$(dirname "$1")"; touch "$1"
    grep -qxF -- "$2" "$1" || echo "$2" >> "$1"
}

# Replace this installer's block in config.txt with firmware/config.txt (or just drop it), keeping the rest.
merge_config_txt() { # merge_config_txt FILE [remove]
    local file=$1 kept
    [ -f "$file" ] || { mkdir -p "$(dirname "$file")"; touch "$file"; }
    kept=$(awk -v begin="$BEGIN_MARK" -v end="$END_MARK" \
        '$0 == begin {skip = 1; next} $0 == end {skip = 0; next} !skip' "$file")
    {
        [ -z "$kept" ] || printf '%s\n' "$kept"
        if [ "${2:-}" != remove ]; then echo "$BEGIN_MARK"; cat "$SOURCE/firmware/config.txt"; echo "$END_MARK"; fi
    } > "$file.new"
    if cmp -s "$file.new" "$file"; then rm "$file.new"; else mv "$file.new" "$file"; say "updated ${file#"$ROOT"}"; fi
}

# cmdline.txt is one line: add the given words that are missing, remembering which were added.
add_cmdline_words() { # add_cmdline_words FILE WORD...
    local file=$1 line word present; shift
    [ -f "$file" ] || { mkdir -p "$(dirname "$file")"; echo "" > "$file"; }
    line=$(head -n 1 "$file")
    for word in "$@"; do
        read -ra present <<< "$line"
        if ! printf '%s\n' "${present[@]}" | grep -qxF -- "$word"; then
            line="${line:+$line }$word"
            add_line "$ROOT$STATE/cmdline-added" "$word"
        fi
    done
    [ "$line" = "$(head -n 1 "$file")" ] || { echo "$line" > "$file"; say "updated ${file#"$ROOT"}"; }
}

remove_cmdline_words() { # remove_cmdline_words FILE (the words this installer added)
    local file=$1 kept=() word present
    [ -f "$file" ] && [ -f "$ROOT$STATE/cmdline-added" ] || return 0
    read -ra present < "$file"
    for word in "${present[@]}"; do
        grep -qxF -- "$word" "$ROOT$STATE/cmdline-added" || kept+=("$word")
    done
    echo "${kept[*]}" > "$file"
}

do_install() {
    local overlay=$1 partition=$2 action unit state packages=("${APT_PACKAGES[@]}")
    [ "$overlay" = no ] || packages+=(overlayroot)
    say "apt packages"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${packages[@]}"

    say "user $SERVICE_USER in ${GROUPS_NEEDED[*]}"
    for group in "${GROUPS_NEEDED[@]}"; do
        grep -q "^$group:" "$ROOT/etc/group" 2>/dev/null || groupadd --system "$group"
    done
    grep -q "^$SERVICE_USER:" "$ROOT/etc/passwd" 2>/dev/null ||
        useradd --system --user-group --home-dir "$DATA" --no-create-home --shell /usr/sbin/nologin "$SERVICE_USER"
    usermod --append --groups "$(IFS=,; echo "${GROUPS_NEEDED[*]}")" "$SERVICE_USER"

    say "venv in $PREFIX"
    mkdir -p "$ROOT$STATE"
    [ -x "$ROOT$PREFIX/bin/python" ] || python3 -m venv "$ROOT$PREFIX"
    "$ROOT$PREFIX/bin/python" -m pip install -q --upgrade "$SOURCE"
    put "$SOURCE/README.md" "$ROOT$PREFIX/README.md" 0644
    for page in "$SOURCE"/docs/*.md; do       # the pages the README links to, beside it
        if [ -f "$page" ]; then put "$page" "$ROOT$PREFIX/docs/${page##*/}" 0644; fi
    done
    if [ -f "$SOURCE/firmware/usb-gadget.sh" ]; then
        put "$SOURCE/firmware/usb-gadget.sh" "$ROOT$PREFIX/libexec/usb-gadget.sh" 0755
    fi

    say "data in $DATA, config at $CONFIG"
    mkdir -p "$ROOT$DATA"
    chown "$SERVICE_USER:$SERVICE_USER" "$ROOT$DATA"
    if [ -e "$ROOT$CONFIG" ]; then say "kept ${CONFIG} as it is"; else put "$SOURCE/firmware/breakage-pi.toml" "$ROOT$CONFIG" 0644; fi

    say "boot configuration"
    [ -e "$ROOT$BOOT/config.txt.breakage-pi-backup" ] || [ ! -e "$ROOT$BOOT/config.txt" ] ||
        cp -p "$ROOT$BOOT/config.txt" "$ROOT$BOOT/config.txt.breakage-pi-backup"
    merge_config_txt "$ROOT$BOOT/config.txt"
    mapfile -t cmdline < <(words "$SOURCE/firmware/cmdline.txt")
    [ "$overlay" = no ] || cmdline+=("$OVERLAYROOT_WORD")
    add_cmdline_words "$ROOT$BOOT/cmdline.txt" "${cmdline[@]}"
    put "$SOURCE/firmware/60-breakage-pi.rules" "$ROOT/etc/udev/rules.d/60-breakage-pi.rules" 0644
    add_line "$ROOT/etc/modules-load.d/breakage-pi.conf" "i2c-dev"

    if [ "$overlay" = yes ]; then
        say "read-only root: volatile journal, no swap"
        mkdir -p "$ROOT/etc/systemd/journald.conf.d"
        printf '[Journal]\nStorage=volatile\nRuntimeMaxUse=16M\n' > "$ROOT/etc/systemd/journald.conf.d/breakage-pi.conf"
        echo "mask dphys-swapfile.service" >> "$ROOT$STATE/services-overlay"
        sort -u -o "$ROOT$STATE/services-overlay" "$ROOT$STATE/services-overlay"
    fi
    if [ -n "$partition" ]; then
        add_line "$ROOT/etc/fstab" "$partition $DATA ext4 defaults,noatime,commit=5 0 2"
    fi

    say "services"
    while read -r action unit; do
        state=$(systemctl is-enabled "$unit" 2>/dev/null || true)
        case "$action:$state" in
            disable:enabled|mask:enabled|mask:static|mask:indirect|mask:disabled)
                systemctl "$action" "$unit"
                add_line "$ROOT$STATE/services-changed" "$action $unit";;
        esac
    done < <(words "$SOURCE/firmware/services.txt"; cat "$ROOT$STATE/services-overlay" 2>/dev/null || true)
    for unit in "$SOURCE"/systemd/*.service; do
        put "$unit" "$ROOT/etc/systemd/system/$(basename "$unit")" 0644
    done
    systemctl daemon-reload
    for unit in "$SOURCE"/systemd/*.service; do
        grep -q '^\[Install\]' "$unit" && systemctl enable "$(basename "$unit")"
    done
    say "done: reboot to start the instrument (sudo reboot); check it with: $PREFIX/bin/breakage-pi doctor"
}

do_uninstall() {
    local action unit
    for unit in "$SOURCE"/systemd/*.service; do
        systemctl disable --now "$(basename "$unit")" || true
        rm -f "$ROOT/etc/systemd/system/$(basename "$unit")"
    done
    if [ -f "$ROOT$STATE/services-changed" ]; then
        while read -r action unit; do
            if [ "$action" = mask ]; then systemctl unmask "$unit"; else systemctl enable "$unit"; fi
        done < "$ROOT$STATE/services-changed"
    fi
    systemctl daemon-reload
    merge_config_txt "$ROOT$BOOT/config.txt" remove
    remove_cmdline_words "$ROOT$BOOT/cmdline.txt"
    rm -f "$ROOT/etc/udev/rules.d/60-breakage-pi.rules" "$ROOT/etc/modules-load.d/breakage-pi.conf" \
        "$ROOT/etc/systemd/journald.conf.d/breakage-pi.conf"
    if [ -f "$ROOT/etc/fstab" ]; then
        grep -v " $DATA ext4 " "$ROOT/etc/fstab" > "$ROOT/etc/fstab.new" || true
        mv "$ROOT/etc/fstab.new" "$ROOT/etc/fstab"
    fi
    if grep -q "^$SERVICE_USER:" "$ROOT/etc/passwd" 2>/dev/null; then userdel "$SERVICE_USER"; fi
    rm -rf "${ROOT:?}$PREFIX"
    say "removed; kept $DATA (your banks, nets and kits), $CONFIG and $BOOT/config.txt.breakage-pi-backup"
}

main() {
    local command=install overlay=no partition=""
    while [ $# -gt 0 ]; do
        case "$1" in
            install|uninstall) command=$1;;
            --overlayroot) overlay=yes;;
            --data-partition) [ $# -ge 2 ] || die "--data-partition needs a device, e.g. LABEL=breakage-data"
                              partition=$2; shift;;
            *) die "unknown argument '$1' (install|uninstall, --overlayroot, --data-partition DEVICE)";;
        esac
        shift
    done
    [ -n "$ROOT" ] || [ "$(id -u)" = 0 ] || die "needs root: sudo make $command"
    [ -z "$ROOT" ] || [ -d "$ROOT" ] || die "BREAKAGE_PI_ROOT=$ROOT is not a directory"
    "do_$command" "$overlay" "$partition"
}

main "$@"
