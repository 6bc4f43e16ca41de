#!/bin/sh
# Models: Pi 4 B and Pi 5 (gadget port: the USB-C power port), Zero 2 W (the data micro-USB); not the Pi 3 B+.
# Breakage Pi USB gadget: a CDC-ACM serial port (the sync protocol, /dev/ttyGS0 on the Pi) and a USB-MIDI port
# (live MIDI out, an ALSA rawmidi device on the Pi, a class-compliant MIDI interface on the computer), built with
# configfs/libcomposite on the dwc2 controller. ACM + MIDI fit dwc2's endpoint budget.
#
#   usb-gadget.sh up       create and bind the gadget (does nothing if it is already bound)
#   usb-gadget.sh down     unbind and remove it (does nothing if it is absent)
#   usb-gadget.sh status   print whether it is bound, and its ports
#
# Needs `dtoverlay=dwc2,dr_mode=peripheral` in /boot/firmware/config.txt (then a reboot). The gadget port is the
# Zero 2 W's data micro-USB ("USB", not "PWR IN") and the Pi 4/5's USB-C power port: there the sync cable is also
# the power input, so use a host port that gives enough current (or a powered hub).
set -eu

NAME=breakage-pi
ROOT=${BREAKAGE_PI_ROOT:-}   # a fake root for tests; empty on the Pi
CONFIGFS=$ROOT/sys/kernel/config
UDC_CLASS=$ROOT/sys/class/udc
SERIAL_FILE=$ROOT/sys/firmware/devicetree/base/serial-number
GADGET=$CONFIGFS/usb_gadget/$NAME
VENDOR=0x1d6b        # Linux Foundation
PRODUCT=0x0104       # Multifunction Composite Gadget (a development id: change both for a product you ship)
MANUFACTURER="Breakage Pi"
PRODUCT_NAME="Breakage Pi groovebox"

log() { echo "usb-gadget: $*" >&2; }

pi_serial() {
    # The board's serial number (the host matches a device by it); the machine id off the Pi.
    if [ -r "$SERIAL_FILE" ]; then
        tr -d '\000' < "$SERIAL_FILE" | sed 's/^0*//'
    elif [ -r "$ROOT/etc/machine-id" ]; then
        cut -c1-16 "$ROOT/etc/machine-id"
    else
        echo 0
    fi
}

bound() { [ -e "$GADGET/UDC" ] && [ -n "$(cat "$GADGET/UDC" 2>/dev/null)" ]; }

up() {
    if bound; then
        log "already bound to $(cat "$GADGET/UDC")"
        return 0
    fi
    modprobe libcomposite
    mountpoint -q "$CONFIGFS" || mount -t configfs none "$CONFIGFS"
    udc=""
    for entry in "$UDC_CLASS"/*; do
        [ -e "$entry" ] && { udc=$(basename "$entry"); break; }
    done
    if [ -z "$udc" ]; then
        log "no USB device controller: add 'dtoverlay=dwc2,dr_mode=peripheral' to /boot/firmware/config.txt and reboot"
        exit 1
    fi
    mkdir -p "$GADGET"
    cd "$GADGET"
    echo $VENDOR > idVendor
    echo $PRODUCT > idProduct
    echo 0x0100 > bcdDevice
    echo 0x0200 > bcdUSB
    # Composite class with interface association descriptors, so Windows binds each function's driver.
    echo 0xEF > bDeviceClass
    echo 0x02 > bDeviceSubClass
    echo 0x01 > bDeviceProtocol
    mkdir -p strings/0x409
    pi_serial > strings/0x409/serialnumber
    echo "$MANUFACTURER" > strings/0x409/manufacturer
    echo "$PRODUCT_NAME" > strings/0x409/product
    mkdir -p configs/c.1/strings/0x409
    echo "sync serial + MIDI" > configs/c.1/strings/0x409/configuration
    echo 250 > configs/c.1/MaxPower
    mkdir -p functions/acm.usb0 functions/midi.usb0
    echo BreakagePi > functions/midi.usb0/id        # the ALSA card id on the Pi
    echo 1 > functions/midi.usb0/in_ports
    echo 1 > functions/midi.usb0/out_ports
    [ -L configs/c.1/acm.usb0 ] || ln -s functions/acm.usb0 configs/c.1/
    [ -L configs/c.1/midi.usb0 ] || ln -s functions/midi.usb0 configs/c.1/
    echo "$udc" > UDC
    log "bound to $udc: serial /dev/ttyGS0, MIDI card BreakagePi"
}

down() {
    [ -d "$GADGET" ] || return 0
    cd "$GADGET"
    if bound; then echo "" > UDC; fi
    for link in configs/c.1/acm.usb0 configs/c.1/midi.usb0; do [ -L "$link" ] && rm "$link"; done
    [ -d configs/c.1/strings/0x409 ] && rmdir configs/c.1/strings/0x409
    [ -d configs/c.1 ] && rmdir configs/c.1
    for function in functions/acm.usb0 functions/midi.usb0; do [ -d "$function" ] && rmdir "$function"; done
    [ -d strings/0x409 ] && rmdir strings/0x409
    cd /
    rmdir "$GADGET"
    log "removed"
}

status() {
    if bound; then
        echo "bound to $(cat "$GADGET/UDC") as $(cat "$GADGET/idVendor"):$(cat "$GADGET/idProduct"), serial $(cat "$GADGET/strings/0x409/serialnumber")"
        ls /dev/ttyGS* 2>/dev/null || true
        grep -H . /proc/asound/BreakagePi/id 2>/dev/null || true
    else
        echo "not bound"
        return 3
    fi
}

case "${1:-}" in
    up) up ;;
    down) down ;;
    status) status ;;
    *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
