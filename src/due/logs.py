"""Structured JSON logging with personal data masked.

At INFO and above, email addresses and phone numbers are masked in everything a
record carries (message and extra keys), so a log line can be shared without
leaking who was written to. DEBUG keeps the values for troubleshooting; Lambda
functions here log at INFO unless ``POWERTOOLS_LOG_LEVEL`` says otherwise.
"""

from __future__ import annotations

import logging
import re

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

_EMAIL = re.compile(r"([A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]*@([A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+)")
# E.164, the form every AWS messaging API uses. Requiring the "+" keeps epoch
# timestamps, dates and ids (all digits, no "+") from being mistaken for numbers.
_PHONE = re.compile(r"(?<!\w)\+\d{8,15}(?!\d)")


def mask_email(text: str) -> str:
    """``jane.doe@example.com`` -> ``j***@example.com``: the domain stays for diagnosis."""
    return _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)


def mask_phone(text: str) -> str:
    """``+14255550123`` -> ``+1425*****23``: country and area stay, the subscriber part goes."""

    def _mask(match: re.Match) -> str:
        digits = match.group(0)[1:]
        keep_head, keep_tail = 4, 2
        return "+" + digits[:keep_head] + "*" * (len(digits) - keep_head - keep_tail) + digits[-keep_tail:]

    return _PHONE.sub(_mask, text)


def mask(text: str) -> str:
    return mask_phone(mask_email(text))


class MaskingFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON formatter, with personal data masked at INFO and above."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        if record.levelno >= logging.INFO:
            line = mask(line)
        return line


def get_logger(service: str) -> Logger:
    return Logger(service=service, logger_formatter=MaskingFormatter())
