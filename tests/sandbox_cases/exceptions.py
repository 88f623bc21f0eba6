class AppError(Exception):
    pass


class NotFound(AppError):
    def __init__(self, key):
        super().__init__(f"no such key: {key}")
        self.key = key


def lookup(d, key):
    try:
        return d[key]
    except KeyError:
        raise NotFound(key)


try:
    lookup({"a": 1}, "b")
except AppError as e:
    print(type(e).__name__, e, e.key)

for value in ["3", "x", None]:
    try:
        print(int(value))
    except ValueError:
        print("not a number:", value)
    except TypeError:
        print("no value")
    else:
        print("parsed")
    finally:
        print("done", value)
