import math

print(math.sqrt(16), math.floor(2.7), math.ceil(2.1))
print(round(math.pi, 4), round(2.5), round(3.5), round(-1.25, 1))
print(math.gcd(12, 18), abs(-3), pow(2, 10), pow(3, 4, 5))
print(divmod(17, 5), 17 // 5, -17 // 5, 17 % -5)
print(math.isclose(0.1 + 0.2, 0.3), math.inf > 10**100)
print(2**100)
print(math.factorial(20), sum([0.5] * 4), max(3, 9, 2), min([4, 1, 8]))
print(int("ff", 16), hex(255), bin(10), float("1.5"))
