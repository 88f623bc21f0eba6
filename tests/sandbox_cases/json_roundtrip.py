import json

data = {"name": "widget", "tags": ["a", "b"], "price": 9.5, "stock": None, "ok": True}
text = json.dumps(data)
print(text)
back = json.loads(text)
print(back == data, back["tags"][1], back["stock"] is None)
print(json.dumps([1, "two", {"3": 4}]))
print(json.loads('{"nested": {"list": [1, 2.5, false, null]}}'))
print(json.dumps({"b": 1, "a": 2}, sort_keys=True) if False else json.dumps({"b": 1, "a": 2}))
try:
    json.loads("{bad json}")
except ValueError:
    print("invalid json refused")
