"""The instrument's TOML config: defaults, the shipped example, and errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from breakage_pi.cli.config_file import (DEFAULT_CONFIG_PATH, Config, ConfigError, GridConfig, KnobConfig, load_config,
                                parse_config)
from breakage_pi.core.errors import BreakageError

EXAMPLE = Path(__file__).parent.parent / "firmware" / "breakage-pi.toml"


def test_the_defaults_are_documented_values():
    config = Config()
    assert config.grid.addresses == (0x2E, 0x2F, 0x30, 0x31)
    assert config.grid.frequency == 100_000 and config.grid.int_pin == 17
    assert (config.buttons.play, config.buttons.shift, config.buttons.mode) == (5, 6, 13)
    assert [(name, knob.kind, knob.channel) for name, knob in config.knobs.items()] == [
        ("velocity", "pot", 0), ("tempo", "pot", 1), ("swing", "pot", 2), ("volume", "pot", 3), ("net", "pot", 4)]
    audio = config.audio
    assert (audio.device, audio.rate, audio.period, audio.periods) == ("hw:CARD=Headphones,DEV=0", 48000, "auto", 3)
    assert parse_config({}) == config


def test_the_nets_learn_from_corrections_by_default_or_on_train():
    assert Config().nets.learn == "auto"
    assert parse_config({"nets": {"learn": "on-train"}}).nets.learn == "on-train"


def test_the_shipped_example_is_the_defaults():
    assert load_config(EXAMPLE) == Config()


def test_values_override_defaults(tmp_path):
    path = tmp_path / "breakage-pi.toml"
    path.write_text("""
[grid]
int_pin = false
addresses = [0x60, 0x61, 0x62, 0x63]
count_delay_ms = 2
[knobs.tempo]
kind = "encoder"
a = 22
b = 23
[audio]
device = "hw:CARD=sndrpihifiberry,DEV=0"
periods = 2
""")
    config = load_config(path)
    assert config.grid.int_pin is None and config.grid.addresses == (0x60, 0x61, 0x62, 0x63)
    assert config.grid.count_delay_ms == 2.0 and config.grid.fifo_delay_ms == GridConfig.fifo_delay_ms
    assert config.knobs["tempo"] == KnobConfig(kind="encoder", channel=None, a=22, b=23)
    assert config.knobs["velocity"].kind == "pot"
    assert (config.audio.device, config.audio.periods) == ("hw:CARD=sndrpihifiberry,DEV=0", 2)


@pytest.mark.parametrize("data, key, message", [
    ({"gird": {}}, "gird", "unknown section"),
    ({"nets": {"learn": "always"}}, "nets.learn", 'must be "auto" or "on-train"'),
    ({"grid": {"adresses": []}}, "grid.adresses", "unknown key"),
    ({"grid": []}, "grid", "must be a table"),
    ({"grid": {"addresses": [0x2E, 0x2F, 0x30]}}, "grid.addresses", "4 boards"),
    ({"grid": {"addresses": [0x2E, 0x2F, 0x30, 0x90]}}, r"grid.addresses\[3\]", "0x08-0x77, got 0x90"),
    ({"grid": {"addresses": [0x2E, 0x2F, "0x30", 0x31]}}, r"grid.addresses\[2\]", "got '0x30'"),
    ({"grid": {"addresses": [0x2E, 0x2E, 0x30, 0x31]}}, "grid.addresses", "distinct"),
    ({"grid": {"int_pin": 28}}, "grid.int_pin", "GPIO number 0-27"),
    ({"grid": {"int_pin": True}}, "grid.int_pin", "got True"),
    ({"grid": {"frequency": 1_000_000}}, "grid.frequency", "10000-400000"),
    ({"grid": {"fifo_delay_ms": -1}}, "grid.fifo_delay_ms", "0-20 ms"),
    ({"grid": {"brightness": "max"}}, "grid.brightness", "number 0-1"),
    ({"grid": {"max_fps": float("inf")}}, "grid.max_fps", "number"),
    ({"buttons": {"play": 3}}, "buttons.play", "I2C-1 SCL"),
    ({"buttons": {"mode": 5}}, "buttons.mode", "already used by buttons.play"),
    ({"buttons": {"stop": 4}}, "buttons.stop", "unknown key"),
    ({"knobs": {"pitch": {}}}, "knobs.pitch", "unknown key"),
    ({"knobs": {"tempo": {"kind": "slider"}}}, "knobs.tempo.kind", "pot\" or \"encoder"),
    ({"knobs": {"tempo": {"kind": "encoder", "b": 23}}}, "knobs.tempo.a", "needs pins a and b"),
    ({"knobs": {"tempo": {"kind": "encoder", "a": 22, "b": 23, "channel": 1}}}, "knobs.tempo.channel",
     "no MCP3008 channel"),
    ({"knobs": {"tempo": {"a": 22}}}, "knobs.tempo.a", "a pot has no encoder pins"),
    ({"knobs": {"tempo": {"channel": 8}}}, "knobs.tempo.channel", "channel 0-7"),
    ({"knobs": {"tempo": {"channel": 0}}}, "knobs.tempo.channel", "already used by knobs.velocity"),
    ({"knobs": {"tempo": {"kind": "encoder", "a": 9, "b": 23}}}, "knobs.tempo.a", "SPI0 MISO"),
    ({"knobs": {"tempo": {"kind": "encoder", "a": 22, "b": 17}}}, "knobs.tempo.b", "already used by grid.int_pin"),
    ({"adc": {"spi_port": 0, "spi_device": 2}}, "adc.spi_device", "chip selects 0-1"),
    ({"audio": {"device": "default"}}, "audio.device", "plug/dmix"),
    ({"audio": {"device": "plug:dmix"}}, "audio.device", "plug/dmix"),
    ({"audio": {"device": ""}}, "audio.device", "ALSA device"),
    ({"audio": {"periods": 1}}, "audio.periods", "2-4"),
    ({"audio": {"rate": 48000.0}}, "audio.rate", "sample rate"),
])
def test_bad_values_name_the_key(data, key, message):
    with pytest.raises(ConfigError, match=f"^{key}: .*{message}"):
        parse_config(data)


def test_config_errors_are_project_and_value_errors():
    with pytest.raises(BreakageError):
        parse_config({"grid": {"poll_ms": 0}})
    with pytest.raises(ValueError):
        parse_config({"grid": {"poll_ms": 0}})


def test_errors_name_the_file(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[grid]\nint_pin = 99\n")
    with pytest.raises(ConfigError, match=f"^{path}: grid.int_pin: "):
        load_config(path)
    path.write_text("[grid\n")
    with pytest.raises(ConfigError, match=f"^{path}: bad TOML"):
        load_config(path)
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "missing.toml")


def test_the_default_location_may_be_absent(monkeypatch, tmp_path):
    monkeypatch.delenv("BREAKAGE_PI_CONFIG", raising=False)
    assert DEFAULT_CONFIG_PATH == Path("/etc/breakage-pi.toml")
    if not DEFAULT_CONFIG_PATH.exists():
        assert load_config() == Config()
    monkeypatch.setenv("BREAKAGE_PI_CONFIG", str(tmp_path / "named.toml"))
    with pytest.raises(ConfigError, match="no such file"):
        load_config()
    (tmp_path / "named.toml").write_text("[audio]\nperiod = 128\n")
    assert load_config().audio.period == 128


def test_the_settings_print_as_toml_that_reads_back():
    import tomllib

    from breakage_pi.cli.config_file import format_config

    config = parse_config({"grid": {"int_pin": False},
                           "knobs": {"tempo": {"kind": "encoder", "a": 22, "b": 23, "push": 24}}})
    assert parse_config(tomllib.loads(format_config(config))) == config
    assert parse_config(tomllib.loads(format_config(Config()))) == Config()


def test_the_config_command_checks_a_file(tmp_path, capsys):
    from breakage_pi.cli import main

    assert main(["config", str(EXAMPLE)]) == 0
    assert "addresses = [0x2E, 0x2F, 0x30, 0x31]" in capsys.readouterr().out
    bad = tmp_path / "bad.toml"
    bad.write_text("[buttons]\nplay = 2\n")
    assert main(["config", str(bad)]) == 2
    assert "buttons.play: GPIO2 is I2C-1 SDA" in capsys.readouterr().err


def test_the_config_command_says_when_there_is_no_file_and_the_defaults_rule(monkeypatch, capsys):
    from breakage_pi.cli import config_file as config_module
    from breakage_pi.cli import main

    monkeypatch.delenv("BREAKAGE_PI_CONFIG", raising=False)
    monkeypatch.setattr(config_module, "DEFAULT_CONFIG_PATH", Path("/nonexistent/breakage-pi.toml"))
    assert main(["config"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first == "# /nonexistent/breakage-pi.toml: not there; the defaults are in force:"
