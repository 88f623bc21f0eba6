a = {1, 2, 3, 4}
b = {3, 4, 5}
print(sorted(a & b), sorted(a | b), sorted(a - b), sorted(a ^ b))
print(a.issuperset({1, 2}), {1, 2} <= a, len(a))
t = (3, 1, 2)
print(t.index(1), t.count(3), sorted(t), t + (4,), t[1:])
print(tuple(sorted({"b": 1, "a": 2})), (1, 2) < (1, 3), (1,) * 3)
