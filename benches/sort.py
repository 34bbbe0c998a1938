people = []
i = 0
while i < 200000:
    people.append({"name": f"p{i}", "age": (i * 7919) % 100, "score": (i * 104729) % 1000})
    i += 1
s = sorted(people, key=lambda p: (p["age"], -p["score"]))
check = 0
for k, p in enumerate(s):
    check = (check + (k % 1000) * p["score"] + p["age"]) % 1000000007
print(s[0]["age"], s[0]["score"], s[-1]["age"], s[-1]["score"], check)
