d = {}
for key in ["zeta", "alpha", "mid"]:
    d[key] = len(key)
print(list(d), list(d.values()), list(d.items()))
d["alpha"] = 99
del d["zeta"]
d["zeta"] = 0
print(d)
merged = {**{"a": 1, "b": 2}, **{"b": 3, "c": 4}}
print(merged)
print(dict(sorted(merged.items(), key=lambda kv: -kv[1])))
counts = {}
for ch in "mississippi":
    counts[ch] = counts.get(ch, 0) + 1
print(counts)
print(d.pop("mid"), d.setdefault("new", []), d)
