def hanoi(n, a="A", b="B", c="C", moves=None):
    moves = [] if moves is None else moves
    if n:
        hanoi(n - 1, a, c, b, moves)
        moves.append(a + c)
        hanoi(n - 1, b, a, c, moves)
    return moves


print(len(hanoi(10)), hanoi(2))


def depth(tree):
    return 1 + max((depth(t) for t in tree), default=0)


print(depth([[[]], [[[[]]]]]))
