import pytest

from due.ses_auto_reply.sender_key import canonical_address


@pytest.mark.parametrize(("address", "person"), [
    ("alice@example.com", "alice@example.com"),
    ("Alice@Example.COM", "alice@example.com"),
    ("<alice@example.com>", "alice@example.com"),
    # BATV (draft-levine-smtp-batv), a new tag per message; Microsoft's variant
    ("prvs=0123abcdef=alice@example.com", "alice@example.com"),
    ("PRVS=9876fedcba=Alice@example.com", "alice@example.com"),
    ("msprvs1=19831kI5p2ZnT=alice@example.com", "alice@example.com"),
    # SRS: the forwarder's rewriting names the original domain and local part
    ("SRS0=HHH=TT=example.com=alice@forwarder.example", "alice@example.com"),
    ("SRS0+xQ1z=7B=example.com=alice@forwarder.example", "alice@example.com"),
    ("SRS1=ZZZ=forwarder.example==HHH=TT=example.com=alice@second.example", "alice@example.com"),
    ("SRS0=HHH=TT=example.com=prvs=0123abcdef=alice@forwarder.example", "alice@example.com"),  # nested
    # a sub-address is its mailbox
    ("alice+orders@example.com", "alice@example.com"),
    ("prvs=0123abcdef=alice+orders@example.com", "alice@example.com"),
])
def test_one_person_one_key(address, person):
    assert canonical_address(address) == person


@pytest.mark.parametrize("address", [
    "bob@example.com", "alice@example.org", "alice.b@example.com", "prvs@example.com", "srs0@example.com",
])
def test_other_people_keep_their_own_key(address):
    assert canonical_address(address) != "alice@example.com"
    assert canonical_address(address) == address
