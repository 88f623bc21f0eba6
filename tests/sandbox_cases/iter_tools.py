data = [("fruit", "apple"), ("veg", "kale"), ("fruit", "pear")]
by_kind = {}
for kind, name in data:
    by_kind.setdefault(kind, []).append(name)
print(by_kind)
matrix = [[1, 2], [3, 4], [5, 6]]
print([list(col) for col in zip(*matrix)])
flat = [x for row in matrix for x in row]
print(flat, flat[::2], flat[-2:])
print(list(range(10, 0, -3)), list(range(0)))
