class Shape:
    def __init__(self, name):
        self.name = name

    def area(self):
        raise NotImplementedError

    def describe(self):
        return f"{self.name} with area {self.area():.2f}"


class Rect(Shape):
    def __init__(self, w, h):
        super().__init__("rect")
        self.w, self.h = w, h

    def area(self):
        return self.w * self.h


class Square(Rect):
    def __init__(self, side):
        super().__init__(side, side)
        self.name = "square"


shapes = [Rect(2, 3.5), Square(3)]
for s in shapes:
    print(s.describe())
print([type(s).__name__ for s in shapes], issubclass(Square, Shape))
try:
    Shape("x").area()
except NotImplementedError:
    print("abstract")
