import uuid

from solocrm.lib.ids import uuid7, uuid7_hex_batch


def test_a_uuid7_has_version_7_and_the_rfc_variant():
    key = uuid7()
    assert key.version == 7
    assert key.variant == uuid.RFC_4122


def test_uuid7s_made_later_sort_after_earlier_ones():
    early = uuid7_hex_batch(50, unix_ms=1_700_000_000_000)
    late = uuid7_hex_batch(50, unix_ms=1_700_000_000_001)
    assert max(early) < min(late)


def test_the_first_48_bits_are_the_creation_time_in_milliseconds():
    key = uuid.UUID(uuid7_hex_batch(1, unix_ms=1_700_000_000_123)[0])
    assert key.int >> 80 == 1_700_000_000_123


def test_a_batch_holds_distinct_random_ids():
    keys = uuid7_hex_batch(10_000, unix_ms=0)
    assert len(set(keys)) == 10_000
    assert all(uuid.UUID(k).version == 7 for k in keys[:100])
