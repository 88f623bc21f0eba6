prices = [19.99, 5.0, 120.5]
total = sum(prices)
print(f"Total: ${total:.2f}")
print(f"Average: {total / len(prices):.3f}")
print(round(total, 1), int(total), f"{total:e}")
print(f"{1/3:.5f}", f"{2**0.5:.10f}", f"{-7:+d}", f"{1234.5:>10.1f}")
print(str(0.1), str(1/3), 1e16, 123456789.0, 0.000012)
