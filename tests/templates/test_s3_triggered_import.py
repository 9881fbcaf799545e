"""What the import's template must say that a real account would otherwise refuse or regret."""

from __future__ import annotations

from scripts.cfn import load_template

TEMPLATE = load_template("S3_triggered_import")
HISTORY_EVENTS_PER_POLL = 9  # Wait entered and exited, the check task's 5 events, the Choice's 2
MAXIMUM_HISTORY_EVENTS = 25_000  # a standard workflow's history (Step Functions service quotas)
ONE_YEAR = 365 * 24 * 3600  # a standard workflow's longest execution


def test_the_longest_wait_for_an_import_job_fits_one_execution():
    parameters = TEMPLATE["Parameters"]
    polls, seconds = parameters["MaximumPolls"]["MaxValue"], parameters["PollSeconds"]["MaxValue"]
    assert polls * HISTORY_EVENTS_PER_POLL < MAXIMUM_HISTORY_EVENTS
    assert polls * seconds < ONE_YEAR


def test_a_follow_up_to_profiles_cannot_be_deployed_without_an_unsubscribe_header():
    rule = TEMPLATE["Rules"]["ProfilesFollowUpNeedsAnUnsubscribeHeader"]
    assert {"Fn::Equals": [{"Ref": "Destination"}, "CustomerProfiles"]} in rule["RuleCondition"]["Fn::And"]
    (assertion,) = rule["Assertions"]
    assert assertion["Assert"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "FollowUpListUnsubscribe"}, ""]}]}


def test_only_files_under_incoming_start_an_import_so_reports_and_staged_files_never_do():
    configurations = TEMPLATE["Resources"]["ImportBucket"]["Properties"]["NotificationConfiguration"][
        "QueueConfigurations"]
    rules = [{r["Name"]: r["Value"] for r in c["Filter"]["S3Key"]["Rules"]} for c in configurations]
    assert rules == [{"prefix": "incoming/", "suffix": ".csv"}, {"prefix": "incoming/", "suffix": ".jsonl"}]


def test_every_task_of_the_state_machine_retries_and_catches():
    states = TEMPLATE["Resources"]["ImportStateMachine"]["Properties"]["Definition"]["States"]
    tasks = {name: state for name, state in states.items() if state["Type"] == "Task"}
    # Start, Validate, WriteProfiles, StageImportFile, StartImportJob, CheckImportJob, FollowUp, Report
    assert len(tasks) == 8
    for name, state in tasks.items():
        assert state["Retry"] and state["Catch"], name
        caught = state["Catch"][0]["Next"]
        assert caught == ("ImportFailed" if name == "Report" else "Report"), name
