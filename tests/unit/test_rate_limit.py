"""The shared rate limiter: permits per key spaced 1/R apart, across processes that share the table."""

import itertools

import pytest

from due.rate_limit import RateLimiter
from due_local.tables import create_table


class Process:
    """One sender's clock: its sleeps move only its own time, as in separate Lambda execution environments."""

    def __init__(self, now=100.0, oversleeps=0.0):
        self.now, self.oversleeps = now, oversleeps
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds + self.oversleeps  # a sleep ends late, never early


@pytest.fixture
def dynamodb(aws):
    client = aws.client("dynamodb")
    create_table(client, "rates", "key")
    return client


def limiter(dynamodb, process):
    return RateLimiter(dynamodb, "rates", clock=process, sleep=process.sleep)


def test_one_process_spaces_permits_per_key(dynamodb):
    process = Process()
    limits = limiter(dynamodb, process)
    granted = []
    for key in ["a", "a", "b", "a", "b"]:
        limits.wait(key, 2)
        granted.append((key, process.now))
    assert granted == [("a", 100.0), ("a", 100.5), ("b", 100.5), ("a", 101.0), ("b", 101.0)]
    process.now += 10  # an idle key grants at once
    limits.wait("a", 2)
    assert process.now == 111.0


def test_two_processes_asking_at_the_same_moment_get_successive_slots(dynamodb):
    first, second = Process(), Process()
    limiter(dynamodb, first).wait("+18445550100", 1)
    limiter(dynamodb, second).wait("+18445550100", 1)  # its own clock still says 100: the item says 101
    assert (first.sleeps, second.sleeps, second.now) == ([], [1.0], 101.0)
    limiter(dynamodb, first).wait("+18445550100", 1)  # the first comes back, also believing it is 100
    assert first.now == 102.0


def test_permits_for_one_key_are_never_closer_than_the_interval_whoever_asks(dynamodb):
    processes = [Process() for _ in range(3)]
    granted = []
    for turn in range(12):
        process = processes[turn % 3]
        limiter(dynamodb, process).wait("pool-1", 3)
        granted.append(process.now)
    gaps = [later - earlier for earlier, later in itertools.pairwise(granted)]
    assert min(gaps) >= 1 / 3  # 334 ms, rounded up to whole milliseconds: never faster than asked
    assert granted[-1] == pytest.approx(100 + 11 * 0.334)


def test_a_caller_that_wakes_late_moves_the_next_permit_later(dynamodb):
    """The calls, not only the permits, stay an interval apart: a permit is taken when it is used."""
    late, punctual = Process(oversleeps=0.03), Process()
    calls = []
    for process in (late, punctual, late, punctual):
        limiter(dynamodb, process).wait("+18445550100", 2)
        calls.append(process.now)
    assert calls == pytest.approx([100.0, 100.5, 101.03, 101.53])


def test_the_rate_must_be_positive(dynamodb):
    with pytest.raises(ValueError, match="the rate for k must be positive"):
        limiter(dynamodb, Process()).wait("k", 0)


def test_idle_keys_expire_a_day_after_their_last_permit(dynamodb):
    limiter(dynamodb, Process()).wait("k", 1)
    item = dynamodb.get_item(TableName="rates", Key={"key": {"S": "k"}})["Item"]
    assert (item["next_slot"]["N"], item["expires_at"]["N"]) == ("101000", str(100 + 86_400))
