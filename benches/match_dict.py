def score(ev):
    match ev:
        case {"kind": "click", "x": x, "y": y} if x > y:
            return x - y
        case {"kind": "click", "x": x}:
            return x
        case {"kind": "key", "key": "enter"}:
            return 10
        case {"kind": "key", "key": k}:
            return len(k)
        case {"kind": "scroll", "delta": {"dy": dy}}:
            return dy * 2
        case _:
            return 1

kinds = ["click", "key", "scroll", "other"]
keys = ["enter", "a", "shift"]
total = 0
i = 0
while i < 300000:
    kind = kinds[i % 4]
    if kind == "click":
        ev = {"kind": kind, "x": i % 17, "y": i % 13}
    elif kind == "key":
        ev = {"kind": kind, "key": keys[i % 3]}
    elif kind == "scroll":
        ev = {"kind": kind, "delta": {"dy": i % 5}}
    else:
        ev = {"kind": kind}
    total += score(ev)
    i += 1
print(total)
