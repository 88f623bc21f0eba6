from collections import defaultdict

groups = defaultdict(list)
for word in ["apple", "avocado", "banana", "blueberry", "cherry"]:
    groups[word[0]].append(word)
print(dict(groups))
totals = defaultdict(int)
for item, qty in [("a", 2), ("b", 1), ("a", 3)]:
    totals[item] += qty
print(sorted(totals.items()))
