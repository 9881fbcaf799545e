"""The hook setter: one campaign hook per project, someone else's refused unless allowed, restored on delete."""

import pytest

from due import aws as due_aws
from due.send_time import hook_setting
from due.send_time.hook_setting import HookInUse, current_hook, restore_hook, set_hook

OURS = "arn:aws:lambda:us-east-1:123456789012:function:stack-HookFunction-1"
THEIRS = "arn:aws:lambda:us-east-1:123456789012:function:someone-elses"


@pytest.fixture
def project(aws):
    return aws.client("pinpoint").create_app(CreateApplicationRequest={"Name": "p"})["ApplicationResponse"]["Id"]


def give_hook(project, name):
    due_aws.client("pinpoint").update_application_settings(ApplicationId=project, WriteApplicationSettingsRequest={
        "CampaignHook": {"LambdaFunctionName": name, "Mode": "FILTER"}})


def test_a_project_without_a_hook_gets_ours_and_gets_nothing_back_on_delete(project):
    pinpoint = due_aws.client("pinpoint")
    assert set_hook(pinpoint, project, OURS, replace_existing=False) == {}
    assert current_hook(pinpoint, project) == {"LambdaFunctionName": OURS, "Mode": "FILTER"}
    assert restore_hook(pinpoint, project, OURS, {})
    assert current_hook(pinpoint, project) == {}


def test_someone_elses_hook_is_refused_unless_replacing_is_allowed_and_then_restored(project):
    pinpoint = due_aws.client("pinpoint")
    give_hook(project, THEIRS)
    with pytest.raises(HookInUse, match="ReplaceExistingHook"):
        set_hook(pinpoint, project, OURS, replace_existing=False)
    assert current_hook(pinpoint, project)["LambdaFunctionName"] == THEIRS
    previous = set_hook(pinpoint, project, OURS, replace_existing=True)
    assert previous == {"LambdaFunctionName": THEIRS, "Mode": "FILTER"}
    assert restore_hook(pinpoint, project, OURS, previous)
    assert current_hook(pinpoint, project)["LambdaFunctionName"] == THEIRS


def test_our_own_hook_by_name_is_ours_and_is_not_kept_as_the_previous_one(project):
    give_hook(project, "stack-HookFunction-1")
    assert set_hook(due_aws.client("pinpoint"), project, OURS, replace_existing=False) == {}


def test_a_hook_changed_since_is_left_alone_on_delete(project):
    pinpoint = due_aws.client("pinpoint")
    set_hook(pinpoint, project, OURS, replace_existing=False)
    give_hook(project, THEIRS)
    assert not restore_hook(pinpoint, project, OURS, {})
    assert current_hook(pinpoint, project)["LambdaFunctionName"] == THEIRS


def test_a_refusal_while_the_permission_propagates_is_retried(project, fakes, monkeypatch):
    pinpoint = due_aws.client("pinpoint")
    attempts = []
    original = pinpoint.update_application_settings

    def refuse_twice(**kwargs):
        attempts.append(1)
        if len(attempts) <= 2:
            from botocore.exceptions import ClientError

            raise ClientError({"Error": {"Code": "BadRequestException", "Message": "cannot invoke"}},
                              "UpdateApplicationSettings")
        return original(**kwargs)

    pinpoint.update_application_settings = refuse_twice
    sleeps = []
    set_hook(pinpoint, project, OURS, replace_existing=False, sleep=sleeps.append)
    assert len(attempts) == 3 and sleeps == [2.0, 4.0]


def test_the_previous_hook_travels_in_the_physical_id():
    kept = {"LambdaFunctionName": THEIRS, "Mode": "FILTER"}
    physical = hook_setting.physical_id("app1", kept)
    assert physical.startswith("app1/campaign-hook/") and hook_setting.previous_of(physical) == kept
    assert len(physical) < 1024
