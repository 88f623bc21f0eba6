import random
import time

random.seed(1)
values = [random.randint(1, 6) for _ in range(100)]
print(min(values) >= 1, max(values) <= 6, len(values))
choice = random.choice(["a", "b", "c"])
print(choice in "abc")
start = time.time()
print(isinstance(start, float), time.time() >= start)
