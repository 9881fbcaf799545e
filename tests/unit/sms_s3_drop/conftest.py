from __future__ import annotations

from pathlib import Path

SAMPLE = (Path(__file__).resolve().parents[3] / "examples" / "sms_s3_drop" / "sample.csv").read_bytes()


class RecordingQueue:
    """An in-memory stand-in for the SQS client's batch send, for files too big for moto's pace.

    It keeps every entry and can refuse chosen entries once, as SendMessageBatch does under load."""

    def __init__(self, refuse_once: set[str] = frozenset()):
        self.entries: list[dict] = []
        self.calls = 0
        self._refuse = set(refuse_once)

    def send_message_batch(self, QueueUrl, Entries):
        assert len(Entries) <= 10
        self.calls += 1
        failed = [{"Id": e["Id"], "SenderFault": False, "Code": "InternalError"} for e in Entries
                  if e["Id"] in self._refuse]
        self._refuse -= {f["Id"] for f in failed}
        self.entries.extend(e for e in Entries if e["Id"] not in {f["Id"] for f in failed})
        return {"Successful": [], "Failed": failed}


def csv_of(rows: int) -> bytes:
    lines = ["sms_number,message,external_campaign_id,short_code,message_type,id_1,id_2"]
    lines += [f"+1425{i:07d},Message {i},c,+18445550100,TRANSACTIONAL,{i}," for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()
