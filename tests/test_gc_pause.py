import gc
import weakref

from hyperdatasets.gc_pause import cyclic_gc_paused


class Node:
    pass


def test_the_collector_is_off_inside_and_back_on_after():
    assert gc.isenabled()
    with cyclic_gc_paused():
        assert not gc.isenabled()
        with cyclic_gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled(), "an inner block must not turn the collector back on"
    assert gc.isenabled()


def test_a_cycle_made_inside_is_still_collected_afterwards():
    with cyclic_gc_paused():
        a, b = Node(), Node()
        a.other, b.other = b, a
        probe = weakref.ref(a)
        del a, b
    assert probe() is not None  # reference counting alone cannot free a cycle
    gc.collect()
    assert probe() is None
    assert not gc.get_freeze_count(), "nothing stays in the permanent generation"


def test_the_collector_comes_back_on_after_an_error():
    try:
        with cyclic_gc_paused():
            raise ValueError("boom")
    except ValueError:
        pass
    assert gc.isenabled()
