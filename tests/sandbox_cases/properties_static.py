class Temperature:
    def __init__(self, celsius):
        self._c = celsius

    @property
    def fahrenheit(self):
        return self._c * 9 / 5 + 32

    @fahrenheit.setter
    def fahrenheit(self, value):
        self._c = (value - 32) * 5 / 9

    @staticmethod
    def freezing():
        return 0

    @classmethod
    def boiling(cls):
        return cls(100)


t = Temperature(25)
print(t.fahrenheit)
t.fahrenheit = 212
print(t._c, Temperature.freezing(), Temperature.boiling().fahrenheit)
