"""The official MCP Python SDK as a client of `weft mcp serve`.

usage: client.py stdio WEFT FILE POLICY | client.py http URL
Prints one line per check; the Rust test compares them.
"""
import asyncio
import json
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamablehttp_client


async def exercise(session):
    await session.initialize()
    tools = await session.list_tools()
    for t in tools.tools:
        print("tool", t.name, json.dumps(t.description), json.dumps(t.inputSchema, sort_keys=True))
    r = await session.call_tool("greet", {"name": "Ada"})
    print("greet", r.isError, r.content[0].text)
    r = await session.call_tool("greet", {"name": "Ada", "greeting": "Hi"})
    print("greet2", r.isError, r.content[0].text)
    r = await session.call_tool("add", {"a": 2, "b": 3})
    print("add", r.isError, r.content[0].text, json.dumps(r.structuredContent))
    r = await session.call_tool("broken", {})
    print("broken", r.isError, r.content[0].text)
    r = await session.call_tool("greet", {})
    print("missing", r.isError, r.content[0].text)
    r = await session.call_tool("read", {"path": "/etc/hostname"})
    print("read", r.isError, r.content[0].text)
    progress = []

    async def on_progress(p, total, message):
        progress.append(message)

    r = await session.call_tool("delegate", {"task": "t"}, progress_callback=on_progress)
    print("delegate", r.isError, r.content[0].text)
    print("progress", len(progress) > 0, any("worker_completed" in (m or "") for m in progress))
    try:
        await session.call_tool("nope", {})
        print("nope", "no error")
    except Exception as e:  # the server answers with a JSON-RPC error
        print("nope", "error", "unknown tool 'nope'" in str(e))


async def main():
    if sys.argv[1] == "stdio":
        weft, file, policy = sys.argv[2:5]
        params = StdioServerParameters(command=weft, args=["mcp", "serve", file, "--policy", policy])
        async with stdio_client(params) as (read, write):
            async with ClientSession(read, write) as session:
                await exercise(session)
    else:
        async with streamablehttp_client(sys.argv[2]) as (read, write, _):
            async with ClientSession(read, write) as session:
                await exercise(session)


asyncio.run(main())
