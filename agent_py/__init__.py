"""agent_py: a CodeAct agent that writes Python, runs it in an isolated sandbox, and answers.

The same package runs in Pyodide (in the page's agent worker) and in CPython (tests, CLI).
Imports stay light here: the page reports "Python ready" as soon as this module is imported.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
