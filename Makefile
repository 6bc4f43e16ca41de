# Breakage Pi: every target sets itself up on a fresh Debian 12 / Raspberry Pi OS Bookworm machine.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
APT_PACKAGES := libasound2-dev libsndfile1 python3-venv python3-dev gcc
# only for tests: systemd-analyze verifies the units in systemd/, shellcheck lints firmware/*.sh;
# a dummy JACK server that keeps real time, and ALSA's jack plugin (plug:jack); all without recommends
# (plain jackd2 would pull in qjackctl, Qt and Mesa); tmux runs the simulator in a real terminal
TEST_APT_PACKAGES := systemd shellcheck jackd2 libasound2-plugins tmux

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup demo test test-arm64 soak bench models kit clean install uninstall

setup: $(STAMP)

# apt-install the packages named in $(1) that are missing
define apt_install_missing
	@missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  $(SUDO) apt-get update -q && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(2) $$missing; \
	fi
endef

.sysdeps:
	$(call apt_install_missing,$(APT_PACKAGES))
	@touch $@

.testdeps:
	$(call apt_install_missing,$(TEST_APT_PACKAGES),--no-install-recommends)
	@touch $@

$(STAMP): pyproject.toml .sysdeps
	@[ -x $(PY) ] || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $@

# a short scripted performance on the simulated panel: edit, train from the grid, perform, switch nets
demo: setup
	@mkdir -p out && rm -rf out/demo-data
	$(VENV)/bin/breakage-pi run --sim --headless --script breakage_pi/data/demo_performance.txt --seconds 14 \
	  --data out/demo-data --device file:FILE=out/demo.wav,FORMAT=wav --print-grid 1000
	@echo "wrote $(CURDIR)/out/demo.wav (the performance) and out/demo-data/ (its bank, nets and settings)"

test: setup .testdeps
	$(PY) -m pytest -q

# The suite and the byte-identity checks on arm64, in a cached Debian bookworm root under emulation
# (qemu-user-static; needs root; ~50 min cold, QUICK=1: byte identity and the render/ONNX tests).
# Not part of `test`. Real-time assertions (marker `realtime`) are skipped there, and listed.
test-arm64: setup
	BREAKAGE_PI_EMULATION=qemu-user QUICK=$(QUICK) .ci/arm64.sh

# the ten-minute engine soak, 5000 SIGKILLs during saves, thousands of hostile files and command lines (hypothesis)
soak: setup .testdeps
	$(PY) -m pytest -q -s -m soak

bench: setup
	$(VENV)/bin/breakage-pi bench

kit: setup
	$(PY) -m breakage_pi.audio.drumsynth breakage_pi/data/kit

# Default nets for a new user: trained from the shipped demo bank, a copy of which sits beside them.
models: setup
	cp breakage_pi/data/demo_bank.json models/demo_bank.json
	$(VENV)/bin/breakage-pi train models/demo_bank.json --out models --seed 0

# On the Pi: `sudo make install [OVERLAYROOT=1] [DATA_PARTITION=LABEL=breakage-data]` (see docs/building.md).
install:
	firmware/install.sh install $(if $(OVERLAYROOT),--overlayroot) $(if $(DATA_PARTITION),--data-partition $(DATA_PARTITION))

uninstall:
	firmware/install.sh uninstall

clean:
	rm -rf $(VENV) .sysdeps .testdeps build *.egg-info
