squares = [x * x for x in range(10)]
evens = {x for x in squares if x % 2 == 0}
index = {name: len(name) for name in ["ada", "grace", "alan"]}
pairs = [(a, b) for a in range(3) for b in range(a)]
print(squares)
print(sorted(evens))
print(index)
print(pairs)
print(sum(x for x in range(101)))
print([[i * j for j in range(3)] for i in range(3)])
