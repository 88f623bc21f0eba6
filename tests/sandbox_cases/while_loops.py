n, steps = 27, 0
while n != 1:
    n = n // 2 if n % 2 == 0 else 3 * n + 1
    steps += 1
print(steps)
for i in range(10):
    if i == 3:
        continue
    if i == 6:
        break
    print(i, end=" ")
else:
    print("never")
print()
for i in range(2):
    pass
else:
    print("loop finished")
