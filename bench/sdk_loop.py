"""The bare-SDK baseline: a plain ``google-genai`` async loop, nothing of ours in the path.

    python -m bench.sdk_loop INPUT.jsonl OUTPUT.jsonl --concurrency 16 [--stream]

Reads the same JSONL batch as ``collabiq llm extract --jsonl``; for each line sends
the same request (system prompt, email text, JSON response schema) to the Gemini
endpoint in ``GOOGLE_GEMINI_BASE_URL`` and writes the parsed JSON answer as one
line. No retries, breaker, state or validation: what any caller pays for the SDK.
``--stream`` makes the same request with ``generate_content_stream`` (server-sent
events, the chunks' text joined), as collabiq does by default (``stream = true``: a
hang is told from a slow answer by the first event); the SDK parses every chunk.
The system prompt and schema are copied in as plain data, so no collabiq module
is imported.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys


async def main(source: str, target: str, concurrency: int, model: str, stream: bool = False) -> int:
    from google import genai
    from google.genai import types

    system, schema = json.loads(os.environ["BENCH_PROMPT_AND_SCHEMA"])
    client = genai.Client(
        api_key=os.environ["GEMINI_API_KEY"],
        http_options=types.HttpOptions(
            base_url=os.environ["GOOGLE_GEMINI_BASE_URL"],
            timeout=30_000,
            retry_options=types.HttpRetryOptions(attempts=1),
        ),
    )
    with open(source, encoding="utf-8") as fh:
        lines = [json.loads(line) for line in fh if line.strip()]
    gate = asyncio.Semaphore(concurrency)

    async def one(row: dict[str, str]) -> str:
        params = {
            "model": model,
            "contents": (
                f"Email received: {row.get('received_at')}\n<email>\n{row['text']}\n</email>"
            ),
            "config": {
                "system_instruction": system,
                "response_mime_type": "application/json",
                "response_json_schema": schema,
            },
        }
        async with gate:
            if stream:
                chunks = client.aio.models.generate_content_stream(**params)
                text = "".join([chunk.text or "" async for chunk in await chunks])
            else:
                text = (await client.aio.models.generate_content(**params)).text or ""
        return json.dumps(json.loads(text or "{}"), ensure_ascii=False)

    results = await asyncio.gather(*(one(row) for row in lines))
    with open(target, "w", encoding="utf-8") as out:
        out.writelines(line + "\n" for line in results)
    await client.aio.aclose()
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("source")
    parser.add_argument("target")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--model", default="gemini-2.5-flash")
    parser.add_argument("--stream", action="store_true")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.source, args.target, args.concurrency, args.model, args.stream)))
