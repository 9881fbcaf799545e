import pytest

from due.ses_auto_reply.reply_log import ReplyLog
from due_local.tables import create_table


@pytest.fixture
def log(aws):
    dynamodb = aws.client("dynamodb")
    create_table(dynamodb, "replies", "sender")
    return ReplyLog(dynamodb, "replies", window_seconds=3600)


def test_one_reply_per_sender_per_window(log):
    assert log.claim("a@example.net", "m1", now=1000) is True
    assert log.claim("a@example.net", "m2", now=1000 + 3599) is False
    assert log.claim("b@example.net", "m3", now=1001) is True
    assert log.claim("a@example.net", "m4", now=1000 + 3600) is True  # expired (TTL may not have deleted it yet)


def test_release_gives_back_only_its_own_claim(log):
    assert log.claim("a@example.net", "m1", now=1000)
    log.release("a@example.net", "m2")  # not its claim: kept
    assert log.claim("a@example.net", "m3", now=1001) is False
    log.release("a@example.net", "m1")
    assert log.claim("a@example.net", "m3", now=1002) is True
