import numpy as np

from breakage_pi.audio.kit import Kit
from breakage_pi.audio.mixer import Mixer, velocity_gain
from breakage_pi.bench.mixer import BUFFER_BYTES, block_allocations
from breakage_pi.core.pattern import DEFAULT_CHANNEL_NAMES


def ramp_kit(length=100):
    ramp = np.linspace(1.0, 0.01, length, dtype=np.float32)
    return Kit(DEFAULT_CHANNEL_NAMES, tuple(np.stack([ramp * (c + 1) / 4, -ramp * (c + 1) / 4], axis=1)
                                           for c in range(4)))


def reference_mix(kit, hits, frames):
    """A plain loop over hits: (channel, velocity, start frame)."""
    out = np.zeros((frames, 2), dtype=np.float64)
    for channel, velocity, start in hits:
        sample = kit.samples[channel][: frames - start]
        out[start:start + len(sample)] += velocity_gain(velocity) * sample
    return out


def test_matches_a_plain_loop_across_blocks():
    kit = ramp_kit()
    hits = [(0, 255, 3), (1, 128, 40), (0, 60, 64), (2, 200, 130), (1, 10, 131)]
    mixer = Mixer(kit, max_block=64, chokes={})
    blocks = []
    for block in range(4):
        for channel, velocity, start in hits:
            if block * 64 <= start < (block + 1) * 64:
                mixer.trigger(channel, velocity, start - block * 64)
        blocks.append(mixer.render(64).copy())
        if block == 2:
            assert mixer.count == 2      # the first three have ended and were retired
    np.testing.assert_allclose(np.concatenate(blocks), reference_mix(kit, hits, 256), atol=1e-6)


def test_voices_retire_when_their_sample_ends():
    mixer = Mixer(ramp_kit(100), max_block=64)
    for offset in range(0, 60, 10):
        mixer.trigger(0, 200, offset)
    assert mixer.count == 6
    for _ in range(3):
        mixer.render(64)
    assert mixer.count == 0 and not mixer.render(64).any()


def test_oldest_voice_is_stolen_when_all_are_busy():
    mixer = Mixer(ramp_kit(10_000), max_voices=4, max_block=64, chokes={})
    for channel in (0, 1, 2, 3):
        mixer.trigger(channel, 255, 0)
    mixer.trigger(3, 255, 0)
    assert mixer.count == 4
    left = mixer.render(64)[0, 0]
    assert np.isclose(left, (2 + 3 + 4 + 4) / 4)          # the kick (1/4) was stolen


def test_velocity_zero_starts_nothing_and_chokes_nothing():
    kit = ramp_kit()
    mixer = Mixer(kit, max_block=64)
    mixer.trigger(2, 255, 0)
    mixer.trigger(3, 0, 0)
    mixer.trigger(0, 0, 0)
    assert mixer.count == 1 and mixer.render(64)[63, 0] == kit.samples[2][63, 0]


def test_steady_state_blocks_allocate_no_buffers_and_keep_nothing():
    """tracemalloc over 10 000 blocks (starts, chokes, steals, stops, retirements): nothing kept, and what a
    block allocates at once stays the few hundred bytes of numpy's call objects, whatever the voice count
    (a gathered buffer for 48 voices alone would be 96 KiB)."""
    few, many = block_allocations(4), block_allocations(48)
    assert few["growth_bytes"] < 1024 and many["growth_bytes"] < 1024    # the loop's own counters; a leak of
                                                                          # one byte a block would be 10 000
    assert many["transient_bytes"] < BUFFER_BYTES and many["allocs_per_block"] == 0


def test_bit_for_bit_the_reference_mixer_through_steals_chokes_stops_and_odd_block_sizes():
    """The row-gathering mixer against the previous one (bench/reference_mixer.py, commit 3466e98): the same
    float32 operations in the same order, so the same bits, whatever the block sizes that follow each other."""
    from breakage_pi.audio.kit import load_kit
    from breakage_pi.bench.reference_mixer import Mixer as ReferenceMixer

    kit, rng = load_kit(), np.random.default_rng(1)
    for max_block, max_voices in ((64, 4), (128, 16), (100, 64), (256, 64)):
        mixers = [kind(kit, max_voices=max_voices, max_block=max_block) for kind in (Mixer, ReferenceMixer)]
        for _ in range(300):
            frames = max_block if rng.random() < 0.7 else int(rng.integers(1, max_block + 1))
            for _ in range(int(rng.poisson(0.8))):
                hit = int(rng.integers(0, 4)), int(rng.integers(0, 256)), int(rng.integers(0, frames))
                for mixer in mixers:
                    mixer.trigger(*hit)
            if rng.random() < 0.02:
                offset = int(rng.integers(0, frames))
                for mixer in mixers:
                    mixer.fade_out(offset)
            ours, reference = (mixer.render(frames) for mixer in mixers)
            assert ours.tobytes() == reference.tobytes()
