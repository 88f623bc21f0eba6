a, b = 1, 2
a, b = b, a
first, *rest = [1, 2, 3, 4]
*init, last = "abcd"
(x, y), z = (1, 2), 3
print(a, b, first, rest, init, last, x, y, z)


def f(*args, **kwargs):
    return args, sorted(kwargs.items())


print(f(1, 2, k=3, j=4))
print(f(*[1, 2], **{"z": 0}))
for i, (k, v) in enumerate({"p": 1, "q": 2}.items()):
    print(i, k, v)
