import os

from accounts.tasks import ping


def test_ping_answers_the_token_back_from_this_process_when_eager():
    answer = ping.delay("abc").get(timeout=5)
    assert answer["pong"] == "pong:abc"
    assert answer["pid"] == os.getpid()
