"""What the .ics-collection calendars share (``daemon.collection``)."""

from __future__ import annotations

from daemon.collection import is_own_name, new_uid, own_file_name, pack, read_whole_uids, still_there, unpack
from daemon.model import Problem


def test_a_uid_chain_is_read_whole_and_nothing_twice():
    # a, b share "x"; b, c share "y"; d is alone
    table = {"a": ["x"], "b": ["x", "y"], "c": ["y"], "d": ["z"]}
    reads: list[set[str]] = []

    def read(names):
        reads.append(set(names))
        return {uid for name in names for uid in table[name]}

    touched: set[str] = set()
    read_whole_uids(table, {"a"}, lambda uids: uids, read, touched)
    assert reads == [{"a"}, {"b"}, {"c"}] and touched == {"x", "y"}


def test_names_and_uids_of_own_objects():
    name = own_file_name("thank-you:k")
    assert is_own_name(name) and is_own_name(f"/cal/{name}") and not is_own_name("followup-x.ics")
    assert new_uid(name) == name[:-4] and "@" not in new_uid(name)


def test_an_object_that_cannot_be_read_keeps_its_uids():
    broken = [Problem("f.ics", "cannot be parsed")]
    assert still_there(["a", "b"], [], broken) == {"a", "b"}
    assert still_there(["a", "b"], [], [Problem("f.ics", "bad", uid="b")]) == {"b"}
    assert still_there(None, [], broken) == set()


def test_tokens_round_trip_and_damage_reads_as_nothing():
    packed = pack({"w": ["2026"], "t": {"a": [1, ["u"]]}})
    assert unpack(packed) == {"w": ["2026"], "t": {"a": [1, ["u"]]}}
    assert unpack(packed[:-6] + "AAAAAA") is None and unpack("not base64!") is None
