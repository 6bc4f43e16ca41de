#!/usr/bin/env bash
# `make test-arm64 [QUICK=1]`: the project on a Raspberry Pi's architecture without a Pi.
#
# Builds (once, cached outside the repository) a Debian bookworm arm64 root run under emulation
# (qemu-user-static through binfmt_misc), installs the project there as the docs say (a copy of the
# working tree, then `make setup`), runs the test suite (`make test`; the real-time assertions,
# marked `realtime`, are skipped under emulation and listed), then checks that the default kit,
# `render` of the demo bank, a fixed-seed `train` and the nets' raw outputs are the same bytes as
# on this machine. QUICK=1 runs the byte-identity checks and the render/ONNX tests only.
#
# Needs root (debootstrap, chroot, mounts) and a Debian bookworm source in this machine's apt
# config (or DEBIAN_MIRROR=URL). The cache: $BREAKAGE_PI_ARM64_CACHE, by default
# ${XDG_CACHE_HOME:-~/.cache}/breakage-pi/arm64; delete it to start from nothing.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
cache=${BREAKAGE_PI_ARM64_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/breakage-pi/arm64}
if [ "$(id -u)" != 0 ]; then
    exec sudo --preserve-env BREAKAGE_PI_ARM64_CACHE="$cache" PIP_CONFIG_HOME="$HOME" "$0" "$@"
fi
pip_home=${PIP_CONFIG_HOME:-$HOME}   # whose user pip config the root gets (the caller's, not sudo's)
root=$cache/root
project=/root/breakage-pi           # the working tree's copy inside the root
emulation=${BREAKAGE_PI_EMULATION:-qemu-user}
quick=${QUICK:-}
host_python=$repo/.venv/bin/python
started=${ARM64_STARTED:-$(date +%s)}
export ARM64_STARTED=$started
figures=()

say() { printf '[arm64 %s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }
die() { say "error: $*" >&2; exit 1; }

# run "$@" and note its wall time under the name $1 for the summary
timed() {
    local name=$1 start seconds status=0 outcome="done"
    start=$(date +%s)
    shift
    say "$name ..."
    "$@" || status=$?
    seconds=$(( $(date +%s) - start ))
    figures+=("$(printf '%-28s %5s min' "$name" "$(minutes "$seconds")")")
    [ "$status" = 0 ] || outcome="FAILED (status $status)"
    say "$name: $outcome in ${seconds}s"
    return "$status"
}

minutes() { awk -v s="$1" 'BEGIN { printf "%.1f", s / 60 }'; }

apt_install_missing() {  # host packages named in "$@" that are not installed yet
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        say "installing on this machine: ${missing[*]}"
        apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
    fi
}

# binfmt_misc mounted and qemu-aarch64 registered with the fix-binary flag (F), so that arm64
# programs in the root run without a copy of qemu inside it
register_qemu() {
    local binfmt=/proc/sys/fs/binfmt_misc
    mountpoint -q "$binfmt" || mount binfmt_misc -t binfmt_misc "$binfmt"
    [ -e "$binfmt/qemu-aarch64" ] || update-binfmts --enable qemu-aarch64 \
        || die "could not register qemu-aarch64 with binfmt_misc"
    grep -q '^enabled' "$binfmt/qemu-aarch64" || die "qemu-aarch64 is registered but disabled ($binfmt/qemu-aarch64)"
    grep -q '^flags:.*F' "$binfmt/qemu-aarch64" \
        || die "qemu-aarch64 is registered without the F flag: install qemu-user-static's registration"
}

# the URL of this machine's apt source for Debian suite $1 (component main), as apt itself sees it
debian_source() {
    apt-cache policy | awk -v suite="$1" '
        $3 == suite "/main" { url = $2; next }
        url && /release/ { if (/o=Debian,/) { print url; exit } url = "" }'
}

build_root() {
    local mirror=${DEBIAN_MIRROR:-$(debian_source bookworm)}
    [ -n "$mirror" ] || die "no Debian bookworm source in this machine's apt config: set DEBIAN_MIRROR=URL"
    say "debootstrap from $mirror"
    rm -rf "$root.partial"
    mkdir -p "$cache"
    debootstrap --arch=arm64 --variant=minbase bookworm "$root.partial" "$mirror"
    mv "$root.partial" "$root"
}

# apt in the root: the host's Debian sources and its Acquire settings (proxy, date checks)
configure_apt() {
    local suite url
    : > "$root/etc/apt/sources.list"
    for suite in bookworm bookworm-updates bookworm-security; do
        url=$(debian_source "$suite")
        [ -n "$url" ] && echo "deb $url $suite main" >> "$root/etc/apt/sources.list"
    done
    [ -s "$root/etc/apt/sources.list" ] || echo "deb ${DEBIAN_MIRROR:?} bookworm main" > "$root/etc/apt/sources.list"
    apt-config dump | grep -E '^Acquire::((http|https)::Proxy|Check-Valid-Until|Check-Date) ' \
        > "$root/etc/apt/apt.conf.d/99host" || true
    cp -L /etc/resolv.conf "$root/etc/resolv.conf"
}

# pip as configured here: its config files, the local paths they name (read-only), CA certificates
pip_config_files() {
    local f
    for f in /etc/pip.conf /etc/xdg/pip/pip.conf "$pip_home/.config/pip/pip.conf" "$pip_home/.pip/pip.conf"; do
        [ -f "$f" ] && echo "$f"
    done
    return 0
}

copy_host_config() {
    local f
    while read -r f; do
        mkdir -p "$root$(dirname "${f/#$pip_home//root}")"
        cp "$f" "$root${f/#$pip_home//root}"
    done < <(pip_config_files)
    [ -d /etc/xdg/pip ] && mkdir -p "$root/etc/xdg" && cp -r /etc/xdg/pip "$root/etc/xdg/"
    if compgen -G "/usr/local/share/ca-certificates/*" > /dev/null; then
        mkdir -p "$root/usr/local/share/ca-certificates"
        cp -rp /usr/local/share/ca-certificates/. "$root/usr/local/share/ca-certificates/"
    fi
}

# existing absolute paths named in pip's config files and PIP_* variables (local indexes, find-links)
pip_local_paths() {
    { pip_config_files | xargs -r cat; env | grep '^PIP_' || true; } \
        | grep -oE '(file://)?/[^ ,"'"'"']+' | sed 's|^file://||' | sort -u | while read -r p; do
            [ -d "$p" ] && [ "${p#/etc/}" = "$p" ] && [ "${p#/usr/}" = "$p" ] && echo "$p"
            [ -d "$p" ] && [ "$(basename "$p")" = simple ] && dirname "$p"   # an index's files beside it
        done | sort -u
    return 0
}

fake_cpuinfo() {  # onnxruntime's CPU detection segfaults under qemu 7.2 on the host's x86 cpuinfo
    local cpu
    for cpu in $(seq 0 $(( $(nproc) - 1 ))); do
        printf 'processor\t: %d\nBogoMIPS\t: 108.00\nFeatures\t: fp asimd evtstrm crc32 cpuid\n' "$cpu"
        printf 'CPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x0\nCPU part\t: 0xd08\nCPU revision\t: 3\n\n'
    done
}

mount_root() {  # in this process's own mount namespace: everything is unmounted when it ends
    mount -t proc proc "$root/proc"
    fake_cpuinfo > "$cache/cpuinfo"
    mount --bind "$cache/cpuinfo" "$root/proc/cpuinfo"
    mount -t sysfs sysfs "$root/sys"
    mount --rbind /dev "$root/dev"
    local p
    while read -r p; do
        mkdir -p "$root$p"
        mount --bind "$p" "$root$p"
        mount -o remount,bind,ro "$root$p"
    done < <(pip_local_paths)
}

in_root() {  # run a shell command in the root, as root, with pip's variables and the emulation flag
    local pip_env
    mapfile -t pip_env < <(env | grep '^PIP_' | grep -v '^PIP_CONFIG_HOME=' || true)
    env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
        TERM="${TERM:-xterm}" BREAKAGE_PI_EMULATION="$emulation" "${pip_env[@]}" \
        chroot "$root" /bin/bash -euo pipefail -c "$1"
}

# what a bare Raspberry Pi OS Lite lacks before `make` (Lite has python3; a debootstrap root has not)
root_prerequisites() {
    # shellcheck disable=SC2016  # expanded by the root's shell
    in_root 'missing=""; for p in make git python3 ca-certificates; do
                 dpkg-query -W -f="\${Status}" $p 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
             done
             if [ -n "$missing" ]; then
                 apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
             fi
             # the build machine'"'"'s own certificates, added or changed since the store was last built
             if [ -n "$(find /usr/local/share/ca-certificates -newer /etc/ssl/certs/ca-certificates.crt)" ]; then
                 update-ca-certificates > /dev/null
             fi'
}

copy_tree() {  # the working tree as it is (uncommitted changes too); the root's venv and stamps kept
    mkdir -p "$root$project"
    find "$root$project" -mindepth 1 -maxdepth 1 ! -name .venv ! -name .sysdeps ! -name .testdeps \
        -exec rm -rf {} +
    git -C "$repo" ls-files -z --cached --others --exclude-standard \
        | tar -C "$repo" --null --ignore-failed-read -T - -cf - | tar -C "$root$project" -xf -
}

wheel_report() {  # which installed distributions came as binary wheels and which were built here
    in_root "cd $project && .venv/bin/python .ci/wheels.py"
}

artefacts() {  # $1: the python that makes them, $2: the folder (both on this machine's paths)
    "$1" "$repo/.ci/artefacts.py" "$2"
}

compare_artefacts() {
    local here_sums=$cache/artefacts-host/SHA256SUMS there_sums=$root/tmp/artefacts/SHA256SUMS
    local total same
    total=$(wc -l < "$here_sums")
    same=$(comm -12 <(sort "$here_sums") <(sort "$there_sums") | wc -l)
    figures+=("$(printf '%-28s %s of %s files identical' "byte identity" "$same" "$total")")
    if [ "$same" = "$total" ] && [ "$(wc -l < "$there_sums")" = "$total" ]; then
        say "byte identity: all $total artefacts identical on arm64 and $(uname -m)"
        return 0
    fi
    say "byte identity: FAILED, these differ between arm64 and $(uname -m):"
    diff <(sort -k2 "$here_sums") <(sort -k2 "$there_sums") | grep '^[<>]' | awk '{print "  " $1 " " $3}' | sort -u -k2
    return 1
}

quick_tests="tests/test_render.py tests/test_ml_onnx.py tests/test_ml_models.py tests/test_drumsynth.py tests/test_kit.py"
quick_tests+=" tests/test_architecture.py"
# the two slowest render tests (one-frame blocks, ten thousand steps: minutes each under emulation) are
# left to the full run
quick_tests+=" --deselect tests/test_render.py::test_render_does_not_depend_on_block_size[1]"
quick_tests+=" --deselect tests/test_render.py::test_no_drift_in_the_audio_after_ten_thousand_steps"

main() {
    if [ "${1:-}" != --in-namespace ]; then
        [ -x "$host_python" ] || die "no $host_python: run \`make setup\` first (make test-arm64 does)"
        apt_install_missing qemu-user-static binfmt-support debootstrap
        register_qemu
        exec unshare --mount --propagation private "$0" --in-namespace
    fi
    say "cache: $cache${quick:+ (QUICK)}"
    [ -e "$root/etc/debian_version" ] || timed "root (debootstrap)" build_root
    configure_apt
    copy_host_config
    mount_root
    timed "root prerequisites" root_prerequisites
    copy_tree
    timed "make setup" in_root "cd $project && make setup"
    wheel_report
    local status=0
    if [ -n "$quick" ]; then
        timed "render/ONNX tests" in_root "cd $project && .venv/bin/python -m pytest -q -rs -p no:cacheprovider $quick_tests" \
            || status=1
    else
        timed "test suite (make test)" in_root "cd $project && PYTEST_ADDOPTS='-rs -p no:cacheprovider' make test" \
            || status=1
    fi
    timed "artefacts on $(uname -m)" artefacts "$host_python" "$cache/artefacts-host"
    rm -rf "$root/tmp/artefacts"
    timed "artefacts on arm64" in_root "cd $project && .venv/bin/python .ci/artefacts.py /tmp/artefacts"
    compare_artefacts || status=1
    say "figures (wall clock, emulated arm64 on $(nproc) core(s)):"
    printf '  %s\n' "${figures[@]}" "$(printf '%-28s %5s min' total "$(minutes $(( $(date +%s) - started )))")"
    if [ "$status" = 0 ]; then say "arm64: passed"; else say "arm64: FAILED"; fi
    return "$status"
}

main "$@"
