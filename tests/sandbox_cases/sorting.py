people = [("ada", 36), ("alan", 41), ("grace", 36), ("linus", 21)]
print(sorted(people, key=lambda p: p[1]))
print(sorted(people, key=lambda p: (-p[1], p[0])))
print(sorted(["banana", "Apple", "cherry"], key=str.lower))
print(sorted([3, 1, 2], reverse=True))
words = ["bb", "a", "ccc", "dd"]
words.sort(key=len)
print(words)
print(max(people, key=lambda p: p[1])[0], min(people, key=lambda p: p[1])[0])
rows = [{"n": "x", "v": 2}, {"n": "y", "v": 1}]
print([r["n"] for r in sorted(rows, key=lambda r: r["v"])])
