total = 0


def add(n):
    global total
    total += n
    return total


for i in range(5):
    add(i)
print(total)
config = {"debug": False}


def enable():
    config["debug"] = True


enable()
print(config)
