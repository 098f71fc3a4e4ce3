"""A local HTTP server that speaks the OpenAI chat-completions API, for tests and benchmarks.

The real openai SDK talks to it over a socket.
"""

import time

from tests.fakes.http_server import LocalJsonServer


def completion(content: str | None = None, *, tool_args: str | None = None, tokens=(120, 40)) -> dict:
    """A chat.completion body answering ``content`` (or a tool call with ``tool_args``)."""
    message = {"role": "assistant", "content": content}
    if tool_args is not None:
        message = {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "QualificationAnswer", "arguments": tool_args},
                }
            ],
        }
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": "fake-model",
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": tokens[0], "completion_tokens": tokens[1], "total_tokens": sum(tokens)},
    }


def error(status: int, message: str) -> tuple[int, dict]:
    return status, {"error": {"message": message, "type": "invalid_request_error", "code": None}}


class FakeOpenAI(LocalJsonServer):
    """``handler(body) -> (status, json)`` answers each chat-completions call; bodies are kept in ``requests``."""

    def __init__(self):
        super().__init__(self._completions)
        self.requests: list[dict] = []
        self.handler = lambda body: (200, completion('{"body": "ok"}'))
        self.base_url = f"{self.url}/v1"

    def _completions(self, method, path, headers, body):
        self.requests.append(body)
        return self.handler(body)
