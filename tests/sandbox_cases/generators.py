def countdown(n):
    while n > 0:
        yield n
        n -= 1


def chunks(items, size):
    for i in range(0, len(items), size):
        yield items[i:i + size]


print(list(countdown(5)))
print(list(chunks(list(range(7)), 3)))
gen = (x * 2 for x in range(3))
print(next(gen), next(gen), next(gen))
try:
    next(gen)
except StopIteration:
    print("exhausted")


def delegating():
    yield from countdown(2)
    yield "end"


print(list(delegating()))
print(list(zip("abc", countdown(3))), list(enumerate("xy", 1)))
