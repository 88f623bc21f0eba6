lines = []
for row in range(1, 4):
    lines.append(" | ".join(f"{row * col:3d}" for col in range(1, 5)))
print("\n".join(lines))
table = [["name", "qty"], ["bolt", 12], ["nut", 7]]
width = max(len(str(cell)) for row in table for cell in row)
for row in table:
    print("".join(str(cell).ljust(width + 2) for cell in row).rstrip())
print("=" * 20)
