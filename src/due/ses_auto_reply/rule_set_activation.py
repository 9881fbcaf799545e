"""Make a receipt rule set the active one, and put the previous one back on delete.

SES has one active receipt rule set per region and CloudFormation cannot set it,
so a custom resource does. The previously active set's name travels in the
physical resource id, so no state is kept anywhere else.
"""

from __future__ import annotations

from typing import Any

_PREFIX = "active-rule-set:"


def _active(ses) -> str:
    return (ses.describe_active_receipt_rule_set().get("Metadata") or {}).get("Name", "")


def _recorded(physical_id: str) -> tuple[str, str] | None:
    """(our rule set, the one active before it) as a physical id records them; None if it records nothing."""
    if not physical_id.startswith(_PREFIX):  # a Create that failed recorded nothing
        return None
    ours, _, previous = physical_id[len(_PREFIX):].partition(":previous:")
    return ours, previous


def activate(ses, rule_set: str, updating: str = "") -> tuple[str, dict[str, Any]]:
    """Activate ``rule_set``. ``updating`` is an update's old physical id: while the set it activated is
    still active (renamed or not), the set it found active stays the one to restore on delete."""
    active = previous = _active(ses)
    if (old := _recorded(updating)) and old[0] == active:
        previous = old[1]
    if active != rule_set:
        ses.set_active_receipt_rule_set(RuleSetName=rule_set)
    return f"{_PREFIX}{rule_set}:previous:{previous if previous != rule_set else ''}", {"PreviousActive": previous}


def restore(ses, physical_id: str) -> dict[str, Any]:
    if not (recorded := _recorded(physical_id)):
        return {}
    ours, previous = recorded
    if _active(ses) != ours:  # someone activated another set since: leave it
        return {"Restored": "false"}
    if previous:
        ses.set_active_receipt_rule_set(RuleSetName=previous)
    else:
        ses.set_active_receipt_rule_set()  # no name: no rule set active, as before
    return {"Restored": "true"}
