import re

text = "Order 66 shipped on 2024-03-15, order 67 on 2024-04-01."
dates = re.findall(r"\d{4}-\d{2}-\d{2}", text)
print(dates)
m = re.search(r"(\d{4})-(\d{2})-(\d{2})", text)
print(m.group(0), m.group(1), m.groups())
print(re.sub(r"\d+", "#", "a1b22c333"))
print(re.split(r"[,;]\s*", "a, b;c,  d"))
print(bool(re.match(r"^[a-z]+$", "hello")), bool(re.match(r"^[a-z]+$", "Hello")))
pattern = re.compile(r"(\w+)@(\w+)\.com")
print(pattern.sub(r"\2:\1", "mail ada@example.com now"))
