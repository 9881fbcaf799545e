import io
import json
import logging

from due.logs import get_logger, mask, mask_email, mask_phone


def test_email_masked_keeping_the_domain():
    assert mask_email("to jane.doe@example.com now") == "to j***@example.com now"


def test_phone_masked_keeping_country_and_area():
    assert mask_phone("from +14255550123.") == "from +1425*****23."


def test_timestamps_and_ids_are_not_mistaken_for_numbers():
    text = "2026-11-27 04:31:13,123+0000 id 1763640000000 seq 49590338271490256608559692538361571095921575989136588898"
    assert mask(text) == text


def _log_line(level: int, message: str, **extra) -> dict:
    stream = io.StringIO()
    logger = get_logger("test_logs")
    logger.setLevel(logging.DEBUG)
    handler = logger.registered_handler
    original = handler.stream
    handler.stream = stream
    try:
        logger.log(level, message, extra=extra)
    finally:
        handler.stream = original
    return json.loads(stream.getvalue().strip().splitlines()[-1])


def test_info_lines_mask_message_and_extra_keys():
    line = _log_line(logging.INFO, "sent to jane@example.com", number="+447700900123")
    assert line["message"] == "sent to j***@example.com"
    assert line["number"] == "+4477******23"


def test_debug_lines_keep_values_for_troubleshooting():
    line = _log_line(logging.DEBUG, "sent to jane@example.com")
    assert line["message"] == "sent to jane@example.com"
