class Account:
    rate = 0.05

    def __init__(self, owner, balance=0):
        self.owner = owner
        self.balance = balance

    def deposit(self, amount):
        if amount <= 0:
            raise ValueError("amount must be positive")
        self.balance += amount
        return self

    def __repr__(self):
        return f"Account({self.owner!r}, {self.balance})"


class Savings(Account):
    def interest(self):
        return round(self.balance * self.rate, 2)


s = Savings("ada", 100).deposit(50)
print(s)
print(s.interest())
print(isinstance(s, Account), type(s).__name__)
try:
    s.deposit(-1)
except ValueError as e:
    print("refused:", e)
