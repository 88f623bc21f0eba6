nums = list(range(1, 11))
print(list(map(lambda x: x * x, nums)))
print(list(filter(lambda x: x % 3 == 0, nums)))
print(any(x > 9 for x in nums), all(x > 0 for x in nums))
from functools import reduce

print(reduce(lambda acc, x: acc * x, nums[:5], 1))
print(list(zip(*[[1, 2, 3], [4, 5, 6]])))
print(list(reversed(nums))[:3], sum(nums) / len(nums))
