"""app/server/connections.py: the limit, eviction of the longest-waiting connection, the
probe reserve."""

from __future__ import annotations

from app.server.connections import PROBE_RESERVE, Admission, Connections


class FakeConnection:
    def __init__(self) -> None:
        self.evicted = False

    def evict(self) -> None:
        self.evicted = True


def opened(connections: Connections, count: int, waiting: bool) -> list[FakeConnection]:
    made = []
    for _ in range(count):
        connection = FakeConnection()
        assert connections.admit(connection) is Admission.SERVED
        (connections.waiting if waiting else connections.working)(connection)
        made.append(connection)
    return made


def test_a_new_connection_past_the_limit_closes_the_one_that_has_waited_longest():
    reasons: list[str] = []
    connections = Connections(3, reasons.append)
    idle = opened(connections, 3, waiting=True)
    newcomer = FakeConnection()
    assert connections.admit(newcomer) is Admission.SERVED
    assert [c.evicted for c in idle] == [True, False, False]
    assert connections.count() == 3 and reasons == ["evicted"]


def test_a_connection_that_waits_again_goes_to_the_back_of_the_line():
    connections = Connections(2)
    first, second = opened(connections, 2, waiting=True)
    connections.working(first)
    connections.waiting(first)  # a new request's headers, later than second's wait
    connections.admit(FakeConnection())
    assert (first.evicted, second.evicted) == (False, True)


def test_requests_in_progress_are_never_closed_and_the_reserve_reaches_the_probes():
    reasons: list[str] = []
    connections = Connections(2, reasons.append)
    busy = opened(connections, 2, waiting=False)
    admitted = [connections.admit(FakeConnection()) for _ in range(PROBE_RESERVE + 1)]
    assert admitted == [Admission.PROBES_ONLY] * PROBE_RESERVE + [Admission.REFUSED]
    assert not any(c.evicted for c in busy) and reasons == ["refused"]


def test_a_closed_connection_frees_its_place():
    connections = Connections(1)
    (only,) = opened(connections, 1, waiting=True)
    connections.closed(only)
    assert connections.count() == 0
    assert connections.admit(FakeConnection()) is Admission.SERVED and not only.evicted
