total = 0
i = 0
while i < 200000:
    s = "  Item-%d  " % (i % 100)
    t = s.strip().lower()
    if t.startswith("item-1"):
        total += 1
    parts = t.split("-")
    total += len(parts[1])
    xs = [i, i + 1, i + 2]
    total += len(xs) + xs[0] % 3
    i += 1
print(total)
