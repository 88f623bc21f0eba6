class Tracker:
    def __init__(self, label):
        self.label = label

    def __enter__(self):
        print("enter", self.label)
        return self

    def __exit__(self, kind, value, tb):
        print("exit", self.label, kind.__name__ if kind else None)
        return kind is ZeroDivisionError


with Tracker("a") as t:
    print("inside", t.label)
with Tracker("b"):
    1 / 0
print("after")
with open("notes.txt", "w") as f:
    f.write("one\ntwo\n")
with open("notes.txt") as f:
    print(f.read().splitlines())
