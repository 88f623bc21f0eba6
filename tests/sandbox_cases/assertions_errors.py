def check(x):
    assert x > 0, "x must be positive"
    return x


try:
    check(-1)
except AssertionError as e:
    print("assertion:", e)
errors = []
for bad in [lambda: [][1], lambda: {}["k"], lambda: 1 / 0, lambda: int("x"), lambda: None.attr]:
    try:
        bad()
    except Exception as e:
        errors.append(type(e).__name__)
print(errors)
try:
    raise RuntimeError("outer") from ValueError("inner")
except RuntimeError as e:
    print("caught", e)
