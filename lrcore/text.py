"""The text form of a spec: ``name(param=value, ...)``, compositions nested.

Parsed with :mod:`ast` and never evaluated: only calls of known schedule names,
keyword (or positional) arguments, numbers, strings, booleans, None and lists
are accepted::

    sequential(schedulers=[linear(start_factor=0.1, total_iters=100),
                           cosine_annealing(T_max=900)], milestones=[100])
"""

from __future__ import annotations

import ast
import dataclasses
from typing import Any

from .spec import Spec, build, lookup


def parse(text: str) -> Spec:
    """The spec written as ``text`` (the inverse of ``str(spec)``)."""
    if not isinstance(text, str):
        raise TypeError(f"parse: text must be a str, got text={text!r}")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"parse: not a schedule expression: {text!r} ({exc.msg})") from None
    return _call(tree.body, text)


def _call(node: ast.AST, text: str) -> Spec:
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
        raise ValueError(f"parse: expected name(param=value, ...), got {ast.unparse(node)!r}")
    cls = lookup(node.func.id)
    fields = [f.name for f in dataclasses.fields(cls)]
    kwargs: dict[str, Any] = {}
    if len(node.args) > len(fields):
        raise ValueError(f"parse: {cls.name} takes at most {len(fields)} positional values")
    for name, arg in zip(fields, node.args):
        kwargs[name] = _value(arg, text)
    for kw in node.keywords:
        if kw.arg is None:
            raise ValueError(f"parse: ** is not allowed in {text!r}")
        if kw.arg in kwargs:
            raise ValueError(f"parse: {cls.name} got {kw.arg} twice")
        kwargs[kw.arg] = _value(kw.value, text)
    return build(cls, kwargs)


def _value(node: ast.AST, text: str) -> Any:
    if isinstance(node, ast.Call):
        return _call(node, text)
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_value(elt, text) for elt in node.elts]
    try:
        return ast.literal_eval(node)
    except ValueError:
        raise ValueError(
            f"parse: only numbers, strings, lists and schedule calls are allowed, "
            f"got {ast.unparse(node)!r} in {text!r}"
        ) from None
