class Point:
    __slots__ = ("x", "y")

    def __init__(self, x, y):
        self.x, self.y = x, y

    def __eq__(self, other):
        return (self.x, self.y) == (other.x, other.y)

    def __lt__(self, other):
        return (self.x, self.y) < (other.x, other.y)

    def __add__(self, other):
        return Point(self.x + other.x, self.y + other.y)

    def __str__(self):
        return "(%d, %d)" % (self.x, self.y)


pts = [Point(3, 1), Point(1, 2), Point(1, 1)]
print(", ".join(str(p) for p in sorted(pts)))
print(Point(1, 2) == Point(1, 2), Point(1, 2) + Point(2, 3))
