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


@pytest.fixture
def stack_link(aws, monkeypatch):
    from due_local.tables import create_table

    key = aws.client("kms").create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["Arn"]
    create_table(aws.client("dynamodb"), "unsubscribes", "address")
    monkeypatch.setenv("UNSUBSCRIBE_KEY_ARN", key)
    monkeypatch.setenv("UNSUBSCRIBES_TABLE_NAME", "unsubscribes")
    secret = unsubscribe.link_secret(aws.client("kms"), key)
    return ListUnsubscribe("https://u.example/", secret)


def click(link: str, method: str) -> dict:
    from urllib.parse import parse_qs, urlsplit

    from due.send_time import unsubscribe_handler
    from due_local.lambda_runtime import LambdaContext

    query = {k: v[0] for k, v in parse_qs(urlsplit(link.strip("<>")).query).items()}
    return unsubscribe_handler.lambda_handler({"queryStringParameters": query,
                                               "requestContext": {"http": {"method": method}}}, LambdaContext())


def test_a_get_only_shows_a_button_and_a_one_click_post_records_the_address(aws, stack_link):
    from due import aws as due_aws
    from due.send_time.consent import Unsubscribes

    link = stack_link.headers("Ana@example.com")[0]["Value"]
    shown = click(link, "GET")
    assert shown["statusCode"] == 200 and 'method="post"' in shown["body"]
    unsubscribes = Unsubscribes(due_aws.client("dynamodb"), "unsubscribes")
    assert unsubscribes.which(["ana@example.com"]) == set()  # a link scanner's GET unsubscribes nobody
    assert click(link, "POST")["statusCode"] == 200
    assert unsubscribes.which(["ANA@example.com", "bo@example.com"]) == {"ana@example.com"}


def test_a_link_signed_for_another_address_or_tampered_with_is_refused(aws, stack_link):
    link = stack_link.headers("ana@example.com")[0]["Value"]
    forged = link.replace(unsubscribe.encode_address("ana@example.com"), unsubscribe.encode_address("bo@example.com"))
    assert click(forged, "POST")["statusCode"] == 400
    assert click("https://u.example/?a=%%%&t=1", "POST")["statusCode"] == 400


def test_the_log_line_of_an_unsubscribe_holds_no_part_of_the_address(aws, stack_link):
    import io

    from due.send_time import unsubscribe_handler

    link = stack_link.headers("ana.silva@example.org")[0]["Value"]
    stream = io.StringIO()
    previous = unsubscribe_handler.logger.registered_handler.setStream(stream)  # the function's own log output
    try:
        assert click(link, "POST")["statusCode"] == 200
    finally:
        unsubscribe_handler.logger.registered_handler.setStream(previous)
    logged = stream.getvalue()
    assert "unsubscribed" in logged and "example.org" not in logged and "@" not in logged


def test_a_token_that_is_not_ascii_is_refused_not_an_error(aws, stack_link):
    link = stack_link.headers("ana@example.com")[0]["Value"]
    a = link.split("a=")[1].split("&")[0]
    assert click(f"https://u.example/?a={a}&t=%C3%A9t%C3%A9", "POST")["statusCode"] == 400
