n = 0
parts = []
i = 0
while i < 300000:
    tag = "even" if i % 2 == 0 else "odd"
    line = f"user={i} score={i * 7 % 1000} tag={tag}"
    n += len(line)
    parts.append(f"{i % 10};")
    i += 1
out = "".join(parts)
print(n, len(out))
