"""The running instrument: takes (a take's folder, WAV, recorder, stats and replay)."""
