"""Chat with the running assistant in the terminal over its REST channel."""

from __future__ import annotations

import argparse
import json
import urllib.request


def send(url: str, sender: str, text: str) -> list[dict]:
    body = json.dumps({"sender": sender, "message": text}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read() or b"[]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sender", default="guest-terminal")
    parser.add_argument("--url", default="http://127.0.0.1:5005/webhooks/rest/webhook")
    args = parser.parse_args()
    print(f"Talking as {args.sender!r}. Ctrl-D to quit.")
    while True:
        try:
            text = input("you> ")
        except EOFError:
            break
        for message in send(args.url, args.sender, text):
            if "text" in message:
                print("bot>", message["text"])
            for button in message.get("buttons", []):
                print(f"      [{button['title']}]  {button['payload']}")


if __name__ == "__main__":
    main()
