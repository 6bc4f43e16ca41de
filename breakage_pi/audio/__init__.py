"""Audio: kits, the mixer, the step player, the real-time engine and its sinks."""
