from collections import OrderedDict, deque, namedtuple

Row = namedtuple("Row", ["name", "qty"])
r = Row("bolt", 5)
print(r.name, r.qty, r[0], r)
q = deque((), 10)
for i in range(5):
    q.append(i)
print(q.popleft(), q.pop(), list(q))
od = OrderedDict()
od["b"] = 1
od["a"] = 2
print(list(od.keys()))
