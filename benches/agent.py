import json
replies = [
    'Sure. {"action": "search", "query": "weather in paris"}',
    '{"action": "answer", "text": "It is sunny."}',
    'Let me think... {"action": "tool", "name": "calc", "args": {"a": 3, "b": 4}}',
    "nothing useful here",
]
def build_prompt(task, history):
    p = f"You are a helpful agent.\nTask: {task}\n"
    for h in history:
        p += f"- {h['role']}: {h['text']}\n"
    return p + "Reply with JSON."
def parse_reply(text):
    start = text.find("{")
    if start < 0:
        return None
    return json.loads(text[start:])
def route(msg):
    match msg:
        case None:
            return "retry"
        case {"action": "search", "query": q}:
            return f"search:{len(q)}"
        case {"action": "answer", "text": t}:
            return f"done:{len(t)}"
        case {"action": "tool", "name": n, "args": {"a": a, "b": b}}:
            return f"tool:{n}:{a * b}"
        case _:
            return "unknown"
counts = {}
plen = 0
i = 0
while i < 50000:
    history = [{"role": "user", "text": f"step {i}"}, {"role": "assistant", "text": f"ok {i % 7}"}]
    prompt = build_prompt(f"task {i % 10}", history)
    plen += len(prompt)
    r = route(parse_reply(replies[i % 4]))
    counts[r] = counts.get(r, 0) + 1
    i += 1
print(plen, len(counts), counts["search:16"], counts["tool:calc:12"], counts["retry"])
