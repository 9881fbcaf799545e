"""List-Unsubscribe per destination, and the stack's unsubscribe link."""

import pytest

from due.send_time import unsubscribe
from due.send_time.unsubscribe import HeaderTooLong, ListUnsubscribe


def test_the_stacks_link_is_signed_per_address_with_one_click():
    headers = ListUnsubscribe("https://u.lambda-url.us-east-1.on.aws/", b"secret").headers("Ana@Example.com")
    value = headers[0]["Value"]
    token = unsubscribe.sign(b"secret", "ana@example.com")
    assert value == f"<https://u.lambda-url.us-east-1.on.aws/?a={unsubscribe.encode_address('ana@example.com')}" \
                    f"&t={token}>"
    assert headers[1] == {"Name": "List-Unsubscribe-Post", "Value": "List-Unsubscribe=One-Click"}
    assert unsubscribe.decode_address(unsubscribe.encode_address("ana@example.com")) == "ana@example.com"


def test_a_users_mailto_link_gets_no_one_click_header():
    assert ListUnsubscribe("mailto:leave@example.com?subject={address}").headers("a@example.com") == [
        {"Name": "List-Unsubscribe", "Value": "<mailto:leave@example.com?subject=a%40example.com>"}]


def test_a_link_longer_than_an_ses_header_is_refused():
    with pytest.raises(HeaderTooLong):
        ListUnsubscribe("https://example.com/" + "x" * 900).headers("a@example.com")
