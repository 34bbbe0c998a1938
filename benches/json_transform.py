import json
items = []
i = 0
while i < 20000:
    items.append({"id": i, "meta": {"ok": i % 3 == 0}, "name": f"item {i}", "price": i % 97, "tags": [f"t{i % 5}", "x"]})
    i += 1
text = json.dumps({"items": items}, separators=(",", ":"))
total = 0
out_len = 0
for _ in range(3):
    doc = json.loads(text)
    cheap = [{"id": it["id"], "label": it["name"].upper(), "ok": it["meta"]["ok"]} for it in doc["items"] if it["price"] < 50]
    out_len += len(json.dumps(cheap, separators=(",", ":")))
    total += len(cheap)
print(len(text), total, out_len)
