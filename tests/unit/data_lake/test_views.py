import pytest

from due.data_lake import views, views_handler
from due_local.athena_local import view_files
from due_local.cfn_response import ResponseCatcher

PROPERTIES = {"DatabaseName": "due_events", "WorkGroup": "due-events"}


@pytest.fixture
def catcher():
    running = ResponseCatcher()
    yield running
    running.close()


def view_names(fakes) -> set[str]:
    found = fakes.athena.local.query(
        "SELECT table_name FROM information_schema.tables WHERE table_type = 'VIEW' AND table_name <> 'events'")
    return {r["table_name"] for r in found}


def test_the_view_sql_is_found_beside_the_package_or_in_the_repository():
    assert set(views.view_statements()) == set(view_files())


def test_create_runs_every_view_in_the_stacks_workgroup_and_database(fakes, catcher, lambda_context):
    views_handler.lambda_handler(catcher.event("Create", PROPERTIES), lambda_context)
    (answer,) = catcher.responses
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert answer["PhysicalResourceId"] == "due_events/views"
    assert set(answer["Data"]["Views"].split(",")) == set(view_files())
    assert view_names(fakes) == set(view_files())
    runs = list(fakes.athena.executions.values())
    assert {(r["WorkGroup"], r["QueryExecutionContext"]["Database"]) for r in runs} == {("due-events", "due_events")}


def test_a_statement_athena_rejects_fails_the_resource_with_athenas_reason(fakes, catcher, lambda_context, tmp_path,
                                                                           monkeypatch):
    (tmp_path / "a_good.sql").write_text("CREATE OR REPLACE VIEW a_good AS SELECT event_id FROM events")
    (tmp_path / "b_bad.sql").write_text("CREATE OR REPLACE VIEW b_bad AS SELECT no_such_column FROM events")
    monkeypatch.setattr(views, "sql_directory", lambda: tmp_path)
    views_handler.lambda_handler(catcher.event("Create", PROPERTIES), lambda_context)
    (answer,) = catcher.responses
    assert answer["Status"] == "FAILED"
    assert "FAILED" in answer["Reason"] and "no_such_column" in answer["Reason"]


def test_delete_drops_every_view_it_created(fakes, catcher, lambda_context):
    views_handler.lambda_handler(catcher.event("Create", PROPERTIES), lambda_context)
    views_handler.lambda_handler(catcher.event("Delete", PROPERTIES, physical_id="due_events/views"), lambda_context)
    assert catcher.responses[-1]["Status"] == "SUCCESS"
    assert view_names(fakes) == set()


def test_delete_after_a_failed_create_runs_nothing(fakes, catcher, lambda_context):
    views_handler.lambda_handler(catcher.event("Delete", PROPERTIES, physical_id="Thing-request-1"), lambda_context)
    assert catcher.responses[-1]["Status"] == "SUCCESS"
    assert fakes.athena.executions == {}


class SlowAthena:
    """Answers QUEUED, then RUNNING, then the final state, as Athena does for a statement that takes a while."""

    def __init__(self, final: dict):
        self.states = [{"State": "QUEUED"}, {"State": "RUNNING"}, final]

    def start_query_execution(self, **_kwargs):
        return {"QueryExecutionId": "q-1"}

    def get_query_execution(self, QueryExecutionId):
        return {"QueryExecution": {"Status": self.states.pop(0)}}


def test_a_statement_is_waited_for_until_it_finishes():
    waits = []
    views.run_statement(SlowAthena({"State": "SUCCEEDED"}), "SELECT 1", database="d", workgroup="w",
                        sleep=waits.append)
    assert waits == [1.0, 1.0]


def test_a_cancelled_statement_is_a_failure():
    with pytest.raises(views.AthenaStatementFailed, match="CANCELLED: stopped by a person"):
        views.run_statement(SlowAthena({"State": "CANCELLED", "StateChangeReason": "stopped by a person"}),
                            "SELECT 1", database="d", workgroup="w", sleep=lambda _s: None)
